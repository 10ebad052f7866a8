// SPDX-License-Identifier: MIT
// Runs every tests/lua/*_test.lua as a script in a WorkerRuntime (so the embedded lua/ modules are there, like in
// `luaload run`): its tests register with test(name, fn) from tests/lua/support/testing.lua, and one VU iteration
// runs them all. A failed assertion fails the iteration with every failure listed.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "bindings/runtime_fixture.hpp"
#include "support/files.hpp"

namespace luaload::bindings::test {
namespace {

const std::filesystem::path kLuaTests = std::filesystem::path(LUALOAD_SOURCE_DIR) / "tests" / "lua";

std::vector<std::string> lua_test_files() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kLuaTests)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.size() > 9 && name.ends_with("_test.lua")) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The prelude shares the file's first line, so error messages keep the file's own line numbers.
std::string harness(const std::string& file) {
  const std::string testing = (kLuaTests / "support" / "testing.lua").string();
  return "local t = dofile(\"" + testing + "\"); local test = t.test; " + luaload::test::read_text(kLuaTests / file) +
         "\nfunction default() t.run() end\n";
}

class LuaScriptTest : public RuntimeTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(LuaScriptTest, EveryTestInTheFilePasses) {
  load(harness(GetParam()));
  ASSERT_NE(runtime_, nullptr);
  const IterationOutcome outcome = run_one(vu(1));
  const auto errors = runtime_->take_script_errors();
  for (const auto& error : errors) {
    ADD_FAILURE() << error.traceback;
  }
  EXPECT_EQ(outcome, IterationOutcome::Completed);
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param.substr(0, info.param.size() - 4);  // drop ".lua"
  std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(TestsLua, LuaScriptTest, ::testing::ValuesIn(lua_test_files()), test_name);

}  // namespace
}  // namespace luaload::bindings::test
