// SPDX-License-Identifier: MIT
// Thresholds on metrics known before the run that never get a sample (the lazily defined stream_*, the mcp_*
// metrics of a required but unused module, a sub-metric nobody hits): `luaload run` against the built-in target
// started in-process, judged at the end as k6 does (docs/metrics.md, "No data").
#include <gtest/gtest.h>

#include "target_script_test.hpp"

namespace luaload::test {
namespace {

// Each iteration sends one request that is not a stream.
constexpr const char* kPrelude = R"(
local http = require("luaload.http")
local ll = require("luaload")
function default() http.get(ll.env.TARGET .. "/health") end
)";

class ThresholdsNoDataTest : public TargetScriptTest {
 protected:
  ThresholdsNoDataTest() : TargetScriptTest(kPrelude) {}
  void SetUp() override { start_target({}); }
};

TEST_F(ThresholdsNoDataTest, AStreamTrendThresholdPassesOnZeroWhenNoStreamWasOpened) {
  auto r = run(R"(options = { thresholds = { stream_time_to_first_event = { "p(95)<200" } } })", {"-i", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "    stream_time_to_first_event");
  LUALOAD_EXPECT_LINE(r, "    \u2713 'p(95)<200' p(95)=0s (no data)");
}

TEST_F(ThresholdsNoDataTest, AStreamCounterThresholdNeedingSamplesFailsWithExitCode99) {
  auto r = run(R"(options = { thresholds = { stream_events = { "count>0" } } })", {"-i", "2"});
  EXPECT_EQ(r.exit_code, 99) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "    \u2717 'count>0' count=0 (no data)");
  EXPECT_EQ(r.err.find("no metric name"), std::string::npos) << r.err;
}

TEST_F(ThresholdsNoDataTest, ARateSubMetricWithoutSamplesPasses) {
  auto r = run(R"(options = { thresholds = { ["checks{check:never}"] = { "rate>0.99" } } })", {"-i", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "    \u2713 'rate>0.99' rate=no data");
  EXPECT_EQ(summary()["metrics"]["checks{check:never}"]["thresholds"]["rate>0.99"],
            (nlohmann::json{{"ok", true}, {"no_data", true}}));
}

TEST_F(ThresholdsNoDataTest, AnUnusedModuleMetricIsJudgedAtTheEnd) {
  auto r = run(R"(require("luaload.mcp")
options = { thresholds = { mcp_errors = { "rate<0.01" }, mcp_sessions = { "count>=1" } } })",
               {"-i", "2"});
  EXPECT_EQ(r.exit_code, 99) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "    \u2713 'rate<0.01' rate=no data");
  LUALOAD_EXPECT_LINE(r, "    \u2717 'count>=1' count=0 (no data)");
}

TEST_F(ThresholdsNoDataTest, AThresholdOnAMetricNobodyDefinesExits104BeforeTheRun) {
  auto r = run(R"(options = { thresholds = { stream_eventz = { "count>0" } } })", {"-i", "2"});
  EXPECT_EQ(r.exit_code, 104) << r.out << r.err;
  EXPECT_NE(r.err.find("invalid threshold defined on stream_eventz; reason: no metric name \"stream_eventz\" found"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.out.find("THRESHOLDS"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace luaload::test
