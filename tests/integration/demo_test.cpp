// SPDX-License-Identifier: MIT
// `luaload demo` and `luaload demo --example NAME`: each example the binary carries runs against the built-in
// target with nothing else running, and passes its own thresholds.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>

#include "support/process.hpp"

namespace luaload::test {
namespace {

using std::chrono::milliseconds;

class DemoExampleTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DemoExampleTest, RunsAgainstTheBuiltInTargetAndPassesItsThresholds) {
  const std::string name = GetParam();
  auto r = run_process({LUALOAD_BINARY, "demo", "--example", name, "-u", "4", "-d", "3s", "-q"}, milliseconds(60'000));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("running examples/" + name + ".lua with 4 VUs for 3s"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("iterations"), std::string::npos) << r.out;
  // A failed threshold or check is a line of its own starting with ✗ (the metrics' "✗ N" columns are not).
  EXPECT_FALSE(std::regex_search(r.out, std::regex("(^|\n) +✗ "))) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Embedded, DemoExampleTest,
                         ::testing::Values("oauth_refresh", "mcp_modern", "mcp_authorized", "mcp_tools", "mcp_stdio"),
                         [](const auto& info) { return info.param; });

TEST(DemoTest, AnUnknownExampleExits104BeforeTheBannerNamingTheChoices) {
  auto r = run_process({LUALOAD_BINARY, "demo", "--example", "nope", "-q"}, milliseconds(10'000));
  EXPECT_EQ(r.exit_code, 104) << r.err;
  EXPECT_EQ(r.err.find("luaload demo:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("mcp_authorized"), std::string::npos) << r.err;
}

TEST(DemoTest, ChecksItsFlagsBeforePrintingItsBanner) {
  auto r = run_process({LUALOAD_BINARY, "demo", "-q", "-d", "soon"}, milliseconds(10'000));
  EXPECT_EQ(r.exit_code, 104) << r.err;
  EXPECT_EQ(r.err.find("luaload demo:"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace luaload::test
