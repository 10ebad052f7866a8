// SPDX-License-Identifier: MIT
// The worker's Lua heap limit (--max-lua-memory, issue 10 defect 4): a script that grows without end fails its
// iteration with the limit's message, the garbage is collected, and the next iteration runs as usual.
#include <gtest/gtest.h>

#include "bindings/lua_heap.hpp"
#include "bindings/runtime_fixture.hpp"

namespace luaload::bindings::test {
namespace {

constexpr size_t kLimit = 32u << 20;

class LuaHeapTest : public RuntimeTest {
 protected:
  void load_limited(const std::string& code) {
    RuntimeConfig config;
    config.lua_memory_limit = kLimit;
    load(code, config);
  }
};

TEST_F(LuaHeapTest, AnIterationPastTheLimitFailsWithItsMessageAndTheNextOneRuns) {
  load_limited(R"lua(
    local ll = require("luaload")
    function default()
      if ll.vu.iteration == 0 then
        local t = {}
        while true do t[#t + 1] = string.rep("x", 2 ^ 20) .. #t end
      end
      local small = {}
      for i = 1, 1000 do small[i] = tostring(i) end
    end
  )lua");
  VuBody& body = vu(1);
  EXPECT_EQ(run_one(body, 0), IterationOutcome::Failed);
  const auto error = only_script_error();
  EXPECT_EQ(error.message, "Lua memory limit of 32 MB reached in worker 0 (--max-lua-memory)");
  EXPECT_NE(error.traceback.find("not enough memory"), std::string::npos) << error.traceback;
  for (uint64_t i = 1; i <= 3; ++i) EXPECT_EQ(run_one(body, i), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(LuaHeapTest, InitCodePastTheLimitIsAnInitErrorWithItsMessageAndLaterVusHaveRoom) {
  load_limited(R"lua(
    local ll = require("luaload")
    local t = {}
    if ll.vu.id == 2 then while true do t[#t + 1] = string.rep("y", 2 ^ 20) .. #t end end
    function default() end
  )lua");
  std::string error;
  EXPECT_NE(runtime_->create_vu(1, &error), nullptr) << error;
  EXPECT_EQ(runtime_->create_vu(2, &error), nullptr);
  EXPECT_NE(error.find("Lua memory limit of 32 MB reached in worker 0"), std::string::npos) << error;
  error.clear();
  auto third = runtime_->create_vu(3, &error);
  EXPECT_NE(third, nullptr) << error;
}

TEST(LuaHeap, CountsBytesRefusesPastTheLimitOnlyWhenEnforcingAndRecovers) {
  LuaHeap heap(10u << 20);
  void* a = LuaHeap::allocate(&heap, nullptr, 0, 6u << 20);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(heap.used(), 6u << 20);
  void* b = LuaHeap::allocate(&heap, nullptr, 0, 6u << 20);  // not enforcing: the runtime's own glue
  ASSERT_NE(b, nullptr);
  LuaHeap::allocate(&heap, b, 6u << 20, 0);
  {
    LuaHeap::Enforce enforce(heap);
    EXPECT_EQ(LuaHeap::allocate(&heap, nullptr, 0, 6u << 20), nullptr);
    EXPECT_TRUE(heap.limit_hit());
    void* c = LuaHeap::allocate(&heap, nullptr, 0, 1u << 20);  // within the headroom, to handle the error
    ASSERT_NE(c, nullptr);
    LuaHeap::allocate(&heap, c, 1u << 20, 0);
  }
  heap.recover();
  EXPECT_FALSE(heap.limit_hit());
  a = LuaHeap::allocate(&heap, a, 6u << 20, 2u << 20);  // shrinking always succeeds
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(heap.used(), 2u << 20);
  LuaHeap::allocate(&heap, a, 2u << 20, 0);
  EXPECT_EQ(heap.used(), 0u);
}

}  // namespace
}  // namespace luaload::bindings::test
