// SPDX-License-Identifier: MIT
// ll.shared: the bounded, mutex-protected store shared by every worker of a run, and its Lua face.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "bindings/runtime_fixture.hpp"
#include "bindings/shared_store.hpp"

namespace luaload::bindings::test {
namespace {

TEST(SharedStoreTest, SetGetOverwriteAndRemoveKeepTheByteCountExact) {
  SharedStore store;
  EXPECT_FALSE(store.get("era").has_value());
  EXPECT_TRUE(store.set("era", "modern"));
  EXPECT_EQ(store.get("era").value_or(""), "modern");
  EXPECT_EQ(store.bytes(), 3u + 6u);
  EXPECT_TRUE(store.set("era", "legacy!"));
  EXPECT_EQ(store.get("era").value_or(""), "legacy!");
  EXPECT_EQ(store.bytes(), 3u + 7u);
  EXPECT_TRUE(store.set("empty", ""));
  EXPECT_EQ(store.get("empty").value_or("missing"), "");
  EXPECT_TRUE(store.set("era", std::nullopt));
  EXPECT_TRUE(store.set("never-set", std::nullopt));
  EXPECT_FALSE(store.get("era").has_value());
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.bytes(), 5u);
}

TEST(SharedStoreTest, ASetPastTheKeyBoundStoresNothingButOverwritesStillWork) {
  SharedStore store;
  for (size_t i = 0; i < SharedStore::kMaxKeys; ++i) ASSERT_TRUE(store.set("k" + std::to_string(i), "v"));
  EXPECT_FALSE(store.set("one-more", "v"));
  EXPECT_FALSE(store.get("one-more").has_value());
  EXPECT_EQ(store.size(), SharedStore::kMaxKeys);
  EXPECT_TRUE(store.set("k7", "replaced"));
  EXPECT_TRUE(store.set("k8", std::nullopt));
  EXPECT_TRUE(store.set("one-more", "v"));  // a key was freed
}

TEST(SharedStoreTest, ASetPastTheByteBoundStoresNothingAndAShrinkingOverwriteFreesBytes) {
  SharedStore store;
  const std::string big(SharedStore::kMaxBytes / 2, 'x');
  ASSERT_TRUE(store.set("a", big));
  EXPECT_FALSE(store.set("b", big));  // 1 + 1 key bytes over the bound
  EXPECT_FALSE(store.get("b").has_value());
  EXPECT_FALSE(store.set("a", std::string(SharedStore::kMaxBytes, 'y')));
  EXPECT_EQ(store.get("a").value_or("").size(), big.size());  // unchanged
  EXPECT_TRUE(store.set("a", "small"));
  EXPECT_TRUE(store.set("b", big));
  EXPECT_EQ(store.bytes(), 1 + 5 + 1 + big.size());
}

TEST(SharedStoreTest, ThreadsSettingAndReadingTheSameKeysSeeOnlyWholeValues) {
  SharedStore store;
  std::atomic<int> torn{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, &torn, t] {
      const std::string mine(1000, static_cast<char>('a' + t));
      for (int i = 0; i < 2000; ++i) {
        store.set("key" + std::to_string(i % 10), mine);
        auto seen = store.get("key" + std::to_string((i + 3) % 10));
        if (seen && (seen->size() != 1000 || seen->find_first_not_of((*seen)[0]) != std::string::npos)) ++torn;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(store.size(), 10u);
  EXPECT_EQ(store.bytes(), 10u * (4 + 1000));
}

TEST_F(RuntimeTest, TwoRuntimesStartedFromOneConfigShareTheStore) {
  RuntimeConfig config;
  load(R"lua(
    local ll = require("luaload")
    function default()
      if ll.shared.get("era") ~= nil then error("the key is set before anyone set it") end
      ll.shared.set("era", "2025-11-25")
      ll.shared.set("gone", "x")
      ll.shared.set("gone", nil)
    end
  )lua", config);
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  // A second worker's runtime, on this loop for the test: it sees what the first one stored.
  std::string error;
  auto other = WorkerRuntime::create(&loop_, 1, {"other.lua", R"lua(
    local ll = require("luaload")
    local seen_in_init = ll.shared.get("era")
    function default()
      if seen_in_init ~= "2025-11-25" or ll.shared.get("era") ~= "2025-11-25" then error("not shared") end
      if ll.shared.get("gone") ~= nil then error("a removed key came back") end
    end
  )lua"}, config, &error);
  ASSERT_NE(other, nullptr) << error;
  {
    auto body = other->create_vu(2, &error);
    ASSERT_NE(body, nullptr) << error;
    auto outcome = std::make_shared<std::optional<IterationOutcome>>();
    body->run_iteration({}, [outcome](IterationOutcome o) { *outcome = o; });
    ASSERT_TRUE(luaload::test::run_until(&loop_, [&] { return outcome->has_value(); }));
    EXPECT_EQ(**outcome, IterationOutcome::Completed);
    EXPECT_TRUE(other->take_script_errors().empty());
  }
  bool closed = false;
  other->close([&closed] { closed = true; });
  ASSERT_TRUE(luaload::test::run_until(&loop_, [&] { return closed; }));
  EXPECT_EQ(config.shared->get("era").value_or(""), "2025-11-25");
}

TEST_F(RuntimeTest, SharedStoreMisuseAndAFullStoreAreScriptErrors) {
  load(R"lua(
    local ll = require("luaload")
    local function raises(fn, text)
      local ok, err = pcall(fn)
      if ok or not err:find(text, 1, true) then error("expected an error with " .. text .. ", got " .. tostring(err)) end
    end
    function default()
      raises(function() ll.shared.get(1) end, "ll.shared.get: the key must be a string, got number")
      raises(function() ll.shared.set("k", 5) end, "ll.shared.set: the value must be a string")
      raises(function() ll.shared.set("k", {}) end, "got table")
      raises(function() ll.shared.set(string.rep("k", 5000), "v") end, "more than the 4096 a key may have")
      for i = 1, 10000 do ll.shared.set("key" .. i, "v") end
      raises(function() ll.shared.set("one-more", "v") end,
             'll.shared.set: the shared store is full (at most 10000 keys and 16 MiB of keys and values); "one-more" was not stored')
      if ll.shared.get("one-more") ~= nil then error("a refused key was stored") end
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST(ReadScriptOptions, TheInitCodeRunForTheOptionsDoesNotWriteToTheRunsStore) {
  RuntimeConfig config;
  std::string error;
  auto options = read_script_options({"s.lua", "require('luaload').shared.set('k', 'v')\nfunction default() end\n"},
                                     config, &error);
  ASSERT_TRUE(options.has_value()) << error;
  EXPECT_FALSE(config.shared->get("k").has_value());
}

}  // namespace
}  // namespace luaload::bindings::test
