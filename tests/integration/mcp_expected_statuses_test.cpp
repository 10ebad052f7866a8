// SPDX-License-Identifier: MIT
// luaload.mcp's own requests and http_req_failed: probing a legacy-only server (answered 400) is an expected
// outcome, not a failed request, and is tagged expected_response=true.
#include "integration/mcp_fixture.hpp"

namespace luaload::test {
namespace {

using engine::target::McpEra;

TEST_F(McpTest, ProbingALegacyOnlyServerLeavesHttpReqFailedAtZero) {
  engine::target::TargetOptions options;
  options.mcp_era = McpEra::Legacy;
  TargetScriptTest::start_target(options);
  auto r = run(R"(
options = { thresholds = { http_req_failed = { "rate<0.0001" } } }
function default()
  local s = assert(mcp.connect(url))
  out("era", s.era)
  assert(s:call_tool("echo", { text = "x" }))
  assert(s:close())
end
)", {"-u", "2", "-i", "4", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "era=legacy");
  const auto s = summary();
  ASSERT_FALSE(s.is_discarded());
  const auto& m = s["metrics"];
  EXPECT_EQ(m["mcp_version_fallbacks"]["values"]["count"].get<double>(), 1);
  EXPECT_EQ(m["http_req_failed"]["values"]["passes"].get<double>(), 0);
  EXPECT_GT(m["http_req_failed"]["values"]["fails"].get<double>(), 0);
  int probes = 0;
  for (const auto& series : m["http_reqs"]["series"]) {
    if (series["tags"]["name"] != "mcp server/discover") continue;
    EXPECT_EQ(series["tags"]["status"], "400");
    EXPECT_EQ(series["tags"]["expected_response"], "true");
    probes += series["values"]["count"].get<int>();
  }
  EXPECT_EQ(probes, 1);  // once per worker and server for the whole run
}

}  // namespace
}  // namespace luaload::test
