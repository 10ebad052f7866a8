// SPDX-License-Identifier: MIT
// Lua-level golden tests (lua-nginx's t/*.t style): every tests/lua/golden/NAME.lua runs as one iteration of one
// VU against the built-in target, and what it prints must equal NAME.out byte for byte; the exit code must be 0,
// or the number in NAME.exit. LUALOAD_UPDATE_GOLDEN=1 rewrites the .out files instead (review the diff!).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/target/target_server.hpp"
#include "support/files.hpp"
#include "support/process.hpp"

namespace luaload::test {
namespace {

namespace fs = std::filesystem;

fs::path golden_dir() { return fs::path(LUALOAD_SOURCE_DIR) / "tests" / "lua" / "golden"; }

std::vector<std::string> golden_scripts() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(golden_dir())) {
    if (entry.path().extension() == ".lua") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class GoldenTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string error;
    target_ = engine::target::TargetServer::create(engine::target::TargetOptions{}, &error);
    ASSERT_NE(target_, nullptr) << error;
  }
  void TearDown() override {
    if (target_) {
      EXPECT_TRUE(target_->stop());
    }
  }

  std::unique_ptr<engine::target::TargetServer> target_;
};

TEST_P(GoldenTest, PrintsExactlyTheExpectedOutput) {
  const fs::path script = golden_dir() / (GetParam() + ".lua");
  const fs::path expected_out = golden_dir() / (GetParam() + ".out");
  const fs::path expected_exit = golden_dir() / (GetParam() + ".exit");
  auto result = run_process({LUALOAD_BINARY, "run", script.string(), "-i", "1", "-u", "1", "--threads", "1",
                             "--quiet", "--no-summary", "-e", "TARGET=" + target_->url()},
                            std::chrono::milliseconds(20'000));
  if (const char* update = std::getenv("LUALOAD_UPDATE_GOLDEN"); update != nullptr && std::string(update) == "1") {
    std::ofstream(expected_out, std::ios::binary) << result.out;
    GTEST_SKIP() << "rewrote " << expected_out;
  }
  ASSERT_TRUE(fs::exists(expected_out)) << expected_out << " is missing; got:\n" << result.out << result.err;
  const int exit_code = fs::exists(expected_exit) ? std::stoi(read_text(expected_exit)) : 0;
  EXPECT_EQ(result.exit_code, exit_code) << result.err;
  EXPECT_EQ(result.out, read_text(expected_out)) << result.err;
}

INSTANTIATE_TEST_SUITE_P(LuaScripts, GoldenTest, ::testing::ValuesIn(golden_scripts()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace luaload::test
