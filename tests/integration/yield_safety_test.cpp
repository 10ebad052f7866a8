// SPDX-License-Identifier: MIT
// A wait refused at a C boundary (ll.sleep in a table.sort comparator) costs nothing but the error: whole runs
// against the built-in target keep requests and iterations in step, caught or not (issue 10, defect 1).
#include <gtest/gtest.h>

#include "target_script_test.hpp"

namespace luaload::test {
namespace {

constexpr const char* kPrelude = R"(
local ll = require("luaload")
local http = require("luaload.http")
local function sorted_while_sleeping()
  table.sort({ 3, 1, 2 }, function(a, b) ll.sleep(0.2); return a < b end)
end
)";

class YieldSafetyRunTest : public TargetScriptTest {
 protected:
  YieldSafetyRunTest() : TargetScriptTest(kPrelude) {}

  double count(const std::string& metric, const char* field = "count") const {
    auto s = summary();
    if (s.is_discarded() || !s["metrics"].contains(metric)) return -1;
    return s["metrics"][metric]["values"][field].get<double>();
  }
};

TEST_F(YieldSafetyRunTest, ACaughtRefusalLeavesEveryRequestItsOwnAnswer) {
  start_target({});
  auto r = run(R"(
options = { thresholds = { checks = { "rate==1" } } }
function default()
  local ok = pcall(sorted_while_sleeping)
  local res = http.get(ll.env.TARGET .. "/status/200")
  ll.check(res, { ["refused"] = function() return not ok end,
                  ["the request's own answer"] = function(r) return r.status == 200 end })
end
)",
               {"-u", "4", "-i", "200"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(count("iterations"), 200);
  EXPECT_EQ(count("http_reqs"), 200);
}

TEST_F(YieldSafetyRunTest, AnUncaughtRefusalFailsItsIterationAndTheCountsStayInStep) {
  start_target({});
  auto r = run(R"(
local n = 0
function default()
  n = n + 1
  if n % 2 == 1 then sorted_while_sleeping() end
  http.get(ll.env.TARGET .. "/status/200")
end
)",
               {"-u", "1", "-i", "20"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(count("iterations"), 20);
  EXPECT_EQ(count("http_reqs"), 10);
  EXPECT_NE(r.err.find("ll.sleep cannot wait here"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace luaload::test
