// SPDX-License-Identifier: MIT
// Iteration errors are reported in full (issue 10, defect 6): every distinct message up to the documented 1000,
// in --summary-export with its count and first traceback, and the iteration_failed rate that thresholds can gate.
#include <gtest/gtest.h>

#include "target_script_test.hpp"

namespace luaload::test {
namespace {

constexpr const char* kPrelude = R"(
local ll = require("luaload")
)";

class ScriptErrorsTest : public TargetScriptTest {
 protected:
  ScriptErrorsTest() : TargetScriptTest(kPrelude) {}
  void SetUp() override { start_target({}); }
};

TEST_F(ScriptErrorsTest, TheExportListsEachErrorWithItsCountAndTracebackAndTheFailedRateGatesTheRun) {
  auto r = run(R"(
options = { thresholds = { iteration_failed = { "rate<0.5" } } }
local function fail_deeper(what) error(what) end
function default()
  local phase = ll.vu.iteration % 3
  if phase == 0 then fail_deeper("boom") elseif phase == 1 then error("other") end
end
)",
               {"-u", "1", "-i", "30"});
  EXPECT_EQ(r.exit_code, 99) << r.out << r.err;  // 20 of 30 iterations failed
  auto s = summary();
  ASSERT_FALSE(s.is_discarded());
  const auto& failed = s["metrics"]["iteration_failed"];
  EXPECT_EQ(failed["type"], "rate") << failed.dump();
  EXPECT_NEAR(failed["values"]["rate"].get<double>(), 20.0 / 30.0, 1e-9) << failed.dump();
  EXPECT_EQ(s["metrics"]["iterations"]["values"]["count"], 30);
  ASSERT_EQ(s["errors"].size(), 2u) << s["errors"].dump();
  for (const auto& e : s["errors"]) {
    EXPECT_EQ(e["count"], 10) << e.dump();
    EXPECT_NE(e["traceback"].get<std::string>().find("stack traceback"), std::string::npos) << e.dump();
  }
  const std::string first = s["errors"][0]["message"];
  const std::string boom = first.find("boom") != std::string::npos ? s["errors"][0]["traceback"] : s["errors"][1]["traceback"];
  EXPECT_NE(boom.find("fail_deeper"), std::string::npos) << boom;
}

TEST_F(ScriptErrorsTest, ARunWithoutErrorsExportsAnEmptyListAndAZeroFailedRate) {
  auto r = run("function default() end\n", {"-u", "1", "-i", "5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = summary();
  EXPECT_EQ(s["errors"], nlohmann::json::array());
  EXPECT_EQ(s["metrics"]["iteration_failed"]["values"]["rate"], 0);
}

// 500 distinct messages within a second or two on one worker: the worker kept only 100 of them per collection.
TEST_F(ScriptErrorsTest, FiveHundredDistinctMessagesInOneBurstAreAllKept) {
  auto r = run("local n = 0\nfunction default() n = n + 1; error('id ' .. n) end\n",
               {"-u", "1", "-i", "500", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = summary();
  ASSERT_EQ(s["errors"].size(), 500u);
  for (const auto& e : s["errors"]) {
    EXPECT_EQ(e["count"], 1);
    EXPECT_EQ(e["message"].get<std::string>().find("more distinct errors"), std::string::npos) << e.dump();
  }
}

// Issue 10, defect 4: a VU that builds a table of 1 MB strings grew to the machine's limit. With the heap limit
// each such iteration fails with the limit's message, the run ends normally and its files are written.
TEST_F(ScriptErrorsTest, IterationsPastTheLuaMemoryLimitFailWithItsMessageAndTheRunEndsNormally) {
  auto r = run(R"(
function default()
  local t = {}
  while true do t[#t + 1] = string.rep("x", 2 ^ 20) .. #t end
end
)",
               {"-u", "2", "-i", "6", "--threads", "2", "--max-lua-memory", "64MB"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = summary();
  ASSERT_FALSE(s.is_discarded());
  EXPECT_EQ(s["metrics"]["iterations"]["values"]["count"], 6);
  EXPECT_EQ(s["metrics"]["iteration_failed"]["values"]["rate"], 1);
  ASSERT_GE(s["errors"].size(), 1u);
  for (const auto& e : s["errors"]) {
    EXPECT_NE(e["message"].get<std::string>().find("Lua memory limit of 64 MB reached in worker"), std::string::npos)
        << e.dump();
  }
}

TEST_F(ScriptErrorsTest, ABadMaxLuaMemoryIsAConfigError) {
  for (const char* bad : {"lots", "12XB", "1MB", "-5MB"}) {
    auto r = run("function default() end\n", {"-i", "1", "--max-lua-memory", bad});
    EXPECT_EQ(r.exit_code, 104) << bad << r.err;
    EXPECT_NE(r.err.find("--max-lua-memory"), std::string::npos) << r.err;
  }
  EXPECT_EQ(run("function default() end\n", {"-i", "1", "--max-lua-memory", "0"}).exit_code, 0);
}

}  // namespace
}  // namespace luaload::test
