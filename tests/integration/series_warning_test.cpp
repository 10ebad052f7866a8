// SPDX-License-Identifier: MIT
// The series growth warning end to end: `luaload run` requesting distinct URLs (one set of series each) against
// the built-in target started in-process, with the limit lowered through LUALOAD_SERIES_WARN_LIMIT.
#include <gtest/gtest.h>

#include "target_script_test.hpp"

namespace luaload::test {
namespace {

// Every iteration requests a URL no iteration requested before, unless GROUPED=1 names them all alike.
constexpr const char* kScript = R"(
local http = require("luaload.http")
local ll = require("luaload")
local n = 0
function default()
  n = n + 1
  local params = ll.env.GROUPED == "1" and { tags = { name = "/health?id={n}" } } or nil
  http.get(ll.env.TARGET .. "/health?id=" .. n, params)
end
)";

constexpr const char* kWarning = "luaload: warning: the test has passed 100 metric series";

class SeriesWarningTest : public TargetScriptTest {
 protected:
  SeriesWarningTest() : TargetScriptTest("") {}
  void SetUp() override { start_target({}); }

  ProcessResult run_with_limit(const std::string& limit, bool grouped) {
    ProcessOptions options;
    options.argv = {LUALOAD_BINARY, "run", dir_.write_file("script.lua", kScript).string(), "--quiet",
                    "-e", "TARGET=" + target_->url(), "-e", std::string("GROUPED=") + (grouped ? "1" : "0"),
                    "-u", "2", "-i", "400", "--no-summary"};
    options.env = {"LUALOAD_SERIES_WARN_LIMIT=" + limit};
    options.timeout = std::chrono::milliseconds(20'000);
    return run_process(options);
  }

  static size_t count(const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
    return n;
  }
};

TEST_F(SeriesWarningTest, DistinctUrlsPastTheLimitWarnOnceAndTheRunSucceeds) {
  auto r = run_with_limit("100", false);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count(r.err, kWarning), 1u) << r.err;
  EXPECT_EQ(count(r.err, "metric series"), 1u) << r.err;
  EXPECT_NE(r.err.find("tags = { name = \"/items/{id}\" }"), std::string::npos) << r.err;
}

TEST_F(SeriesWarningTest, NamedRequestsStayBelowTheLimitAndDoNotWarn) {
  auto r = run_with_limit("100", true);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count(r.err, "metric series"), 0u) << r.err;
}

TEST_F(SeriesWarningTest, ALimitThatIsNotAPositiveNumberKeepsTheDefault) {
  auto r = run_with_limit("ten", false);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count(r.err, "metric series"), 0u) << r.err;  // 400 URLs make about 4 400 series, below 30 000
}

}  // namespace
}  // namespace luaload::test
