// SPDX-License-Identifier: MIT
// `luaload run` with bad input found by QA: each case must end with a one-line message naming the input and k6's
// exit code, never a crash, a hang or a silently ignored setting. No network is used.
#include <gtest/gtest.h>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace luaload::test {
namespace {

class CliEdgesTest : public ::testing::Test {
 protected:
  ProcessResult luaload_path(const std::string& path, std::vector<std::string> args) {
    std::vector<std::string> argv = {LUALOAD_BINARY, "run", path, "--quiet"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_process(argv, std::chrono::milliseconds(20'000));
  }
  ProcessResult luaload(const std::string& script, std::vector<std::string> args) {
    return luaload_path(dir_.write_file("script.lua", script).string(), std::move(args));
  }

  TempDir dir_;
};

TEST_F(CliEdgesTest, AnInvalidThresholdExpressionExits104NamingIt) {
  auto r = luaload("options = { thresholds = { http_req_duration = { 'p(95)<fast' } } }\nfunction default() end",
                   {"-i", "1"});
  EXPECT_EQ(r.exit_code, 104) << r.out << r.err;
  EXPECT_NE(r.err.find("p(95)<fast"), std::string::npos) << r.err;
}

TEST_F(CliEdgesTest, AnInvalidThresholdSelectorExits104) {
  auto r = luaload("options = { thresholds = { ['http_req_duration{name'] = { 'p(95)<100' } } }\n"
                   "function default() end",
                   {"-i", "1"});
  EXPECT_EQ(r.exit_code, 104) << r.out << r.err;
  EXPECT_NE(r.err.find("http_req_duration{name"), std::string::npos) << r.err;
}

TEST_F(CliEdgesTest, AnAggregationThatABuiltinMetricDoesNotHaveExits104BeforeTheRun) {
  auto r = luaload("options = { thresholds = { http_req_duration = { 'rate<0.01' } } }\nfunction default() end",
                   {"-d", "5s"});
  EXPECT_EQ(r.exit_code, 104) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("invalid threshold defined on http_req_duration; reason: the aggregation method \"rate\""),
            std::string::npos)
      << r.err;
}

TEST_F(CliEdgesTest, ADirectoryAsTheScriptExits104SayingSo) {
  auto r = luaload_path(dir_.path().string(), {"-i", "1"});
  EXPECT_EQ(r.exit_code, 104) << r.out << r.err;
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
}

TEST_F(CliEdgesTest, AnAbsurdNumberOfVusExits104InsteadOfRunningOutOfMemory) {
  auto r = luaload("function default() end", {"-u", "99999999999999", "-d", "1s"});
  EXPECT_EQ(r.exit_code, 104) << r.out << r.err;
  EXPECT_EQ(r.term_signal, 0);
  EXPECT_NE(r.err.find("99999999999999"), std::string::npos) << r.err;
}

TEST_F(CliEdgesTest, AnAbsurdNumberOfVusInTheOptionsExits104) {
  auto r = luaload("options = { vus = 5000000000, duration = '1s' }\nfunction default() end", {});
  EXPECT_EQ(r.exit_code, 104) << r.out << r.err;
  EXPECT_EQ(r.term_signal, 0);
}

TEST_F(CliEdgesTest, AMissingCaFileExits104NamingIt) {
  auto r = luaload("function default() end", {"-i", "1", "--ca", "/nonexistent/ca.pem"});
  EXPECT_EQ(r.exit_code, 104) << r.out << r.err;
  EXPECT_NE(r.err.find("--ca: cannot read \"/nonexistent/ca.pem\""), std::string::npos) << r.err;
}

TEST_F(CliEdgesTest, ACaFileWithoutCertificatesExits104NamingIt) {
  auto ca = dir_.write_file("not-a-ca.pem", "hello\n").string();
  auto r = luaload("function default() end", {"-i", "1", "--ca", ca});
  EXPECT_EQ(r.exit_code, 104) << r.out << r.err;
  EXPECT_NE(r.err.find("--ca: cannot load CA file '" + ca + "'"), std::string::npos) << r.err;
}

TEST_F(CliEdgesTest, RequireFindsModulesNextToTheScriptWhateverTheCurrentDirectory) {
  dir_.write_file("journeys/lib/helpers.lua", "return { answer = 42 }\n");
  auto script = dir_.write_file("journeys/main.lua",
                                "local h = require('lib.helpers')\nfunction default() print('answer=' .. h.answer) end\n");
  auto r = luaload_path(script.string(), {"-i", "1"});  // the test's working directory is elsewhere
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("answer=42"), std::string::npos) << r.out << r.err;
}

TEST(CliCommands, AnUnknownCommandIsNamedInTheMessage) {
  auto r = run_process({LUALOAD_BINARY, "runn", "script.lua"}, std::chrono::milliseconds(10'000));
  EXPECT_EQ(r.exit_code, 104) << r.err;
  EXPECT_EQ(r.err, "luaload: unknown command \"runn\"\nRun 'luaload help' for usage.\n");
}

}  // namespace
}  // namespace luaload::test
