// SPDX-License-Identifier: MIT
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "engine/target/target_server.hpp"
#include "support/files.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace luaload::test {

// Base of the tests that run `luaload run` on a script written by the test (a module's prelude + the test's body)
// against the built-in target started in-process on 127.0.0.1 (port 0). Scripts report what they saw as
// `key=value` lines on stdout; the summary export lands in the test's temporary directory.
class TargetScriptTest : public ::testing::Test {
 protected:
  explicit TargetScriptTest(const char* prelude) : prelude_(prelude) {}

  void start_target(const engine::target::TargetOptions& options) {
    std::string error;
    target_ = engine::target::TargetServer::create(options, &error);
    ASSERT_NE(target_, nullptr) << error;
  }

  void TearDown() override {
    if (target_) {
      EXPECT_TRUE(target_->stop());
    }
  }

  // Runs prelude + body with one VU for one iteration (or the given extra arguments).
  ProcessResult run(const std::string& body, std::vector<std::string> extra = {"-i", "1"}) {
    auto path = dir_.write_file("script.lua", std::string(prelude_) + body);
    std::vector<std::string> argv = {LUALOAD_BINARY, "run", path.string(), "--quiet", "-e", "TARGET=" + target_->url(),
                                     "--summary-export", (dir_.path() / "summary.json").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, std::chrono::milliseconds(20'000));
  }

  // The summary export of the last run (discarded when there is none).
  nlohmann::json summary() const { return read_json_file(dir_.path() / "summary.json"); }

  // True when `out` has the exact line `line`.
  static bool has_line(const std::string& out, const std::string& line) {
    std::istringstream lines(out);
    for (std::string l; std::getline(lines, l);) {
      if (l == line) return true;
    }
    return false;
  }

  std::unique_ptr<engine::target::TargetServer> target_;
  TempDir dir_;

 private:
  const char* prelude_;
};

#define LUALOAD_EXPECT_LINE(result, line) EXPECT_TRUE(has_line((result).out, line)) << (result).out << (result).err

}  // namespace luaload::test
