// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <filesystem>

#include "bindings/runtime_fixture.hpp"

namespace luaload::bindings::test {
namespace {

TEST_F(RuntimeTest, GlobalsAndTopLevelLocalsArePerVu) {
  load(R"(
    local ll = require("luaload")
    local calls = 0
    counter = 0
    function default()
      calls = calls + 1
      counter = counter + 1
      if counter ~= calls then error("globals and locals diverged") end
      if counter ~= ll.vu.iteration + 1 then error("shared state: counter " .. counter) end
    end
  )");
  VuBody& a = vu(1);
  VuBody& b = vu(2);
  EXPECT_EQ(run_one(a, 0), IterationOutcome::Completed);
  EXPECT_EQ(run_one(a, 1), IterationOutcome::Completed);
  EXPECT_EQ(run_one(b, 0), IterationOutcome::Completed);
  EXPECT_TRUE(runtime_->take_script_errors().empty());
}

TEST_F(RuntimeTest, VuIdIsVisibleInInitCodeAndIterations) {
  load(R"(
    local ll = require("luaload")
    local init_id = ll.vu.id
    function default()
      if init_id ~= 7 or ll.vu.id ~= 7 or ll.vu.scenario ~= "default" then error("wrong id") end
    end
  )");
  EXPECT_EQ(run_one(vu(7)), IterationOutcome::Completed);
  EXPECT_TRUE(runtime_->take_script_errors().empty());
}

TEST_F(RuntimeTest, HttpCallInInitCodeFailsWithInitContextMessage) {
  load(R"(
    local http = require("luaload.http")
    http.get("http://127.0.0.1:1/")
    function default() end
  )");
  std::string error;
  EXPECT_EQ(runtime_->create_vu(1, &error), nullptr);
  EXPECT_NE(error.find("script.lua:3: http.get cannot be called in the init context (top-level code); call it "
                      "from default(), setup() or teardown()"),
            std::string::npos)
      << error;
}

TEST_F(RuntimeTest, SleepInInitCodeFailsWithInitContextMessage) {
  load("require('luaload').sleep(1)\nfunction default() end\n");
  std::string error;
  EXPECT_EQ(runtime_->create_vu(1, &error), nullptr);
  EXPECT_NE(error.find("ll.sleep cannot be called in the init context"), std::string::npos) << error;
}

TEST_F(RuntimeTest, ExecutableIsTheAbsolutePathOfTheRunningBinaryInInitCodeAndIterations) {
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  RuntimeConfig config;
  config.env["SELF"] = self;
  load(R"lua(
    local ll = require("luaload")
    local at_init = ll.executable
    function default()
      if at_init ~= ll.env.SELF or ll.executable ~= at_init then error(tostring(ll.executable)) end
      if ll.executable:sub(1, 1) ~= "/" then error("not absolute") end
    end
  )lua", config);
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  EXPECT_TRUE(runtime_->take_script_errors().empty());
}

TEST_F(RuntimeTest, ScriptWithoutDefaultCannotCreateVus) {
  load("x = 1\n");
  std::string error;
  EXPECT_EQ(runtime_->create_vu(1, &error), nullptr);
  EXPECT_EQ(error, "script.lua: the script defines no default function");
}

TEST_F(RuntimeTest, RuntimeErrorFailsIterationAndErrorsAreGroupedByMessage) {
  load(R"(
    function default()
      local t = nil
      return t.field
    end
  )");
  VuBody& a = vu(1);
  EXPECT_EQ(run_one(a, 0), IterationOutcome::Failed);
  EXPECT_EQ(run_one(a, 1), IterationOutcome::Failed);
  EXPECT_EQ(run_one(vu(2)), IterationOutcome::Failed);
  auto errors = runtime_->take_script_errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "script.lua:4: attempt to index local 't' (a nil value)");
  EXPECT_EQ(errors[0].count, 3u);
  EXPECT_NE(errors[0].traceback.find("stack traceback:"), std::string::npos);
  EXPECT_TRUE(runtime_->take_script_errors().empty());
}

TEST_F(RuntimeTest, FailMarksIterationFailedWithItsMessage) {
  load("local ll = require('luaload')\nfunction default() ll.fail('bad login') end\n");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Failed);
  auto errors = runtime_->take_script_errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "script.lua:2: bad login");
}

TEST_F(RuntimeTest, AbortEndsIterationAsAbortedEvenInsidePcall) {
  load(R"(
    local ll = require("luaload")
    function default()
      pcall(ll.abort, "stop now")
      error("not reached")
    end
  )");
  VuBody& body = vu(1);
  EXPECT_EQ(run_one(body), IterationOutcome::Aborted);
  EXPECT_EQ(body.abort_message(), "stop now");
  EXPECT_TRUE(runtime_->take_script_errors().empty());
}

TEST_F(RuntimeTest, SleepingVuLetsOtherVusRun) {
  load(R"(
    local ll = require("luaload")
    function default()
      if ll.vu.id == 1 then ll.sleep(0.2) end
    end
  )");
  VuBody& sleeper = vu(1);
  VuBody& fast = vu(2);
  auto slow_outcome = start(sleeper);
  EXPECT_EQ(run_one(fast, 0), IterationOutcome::Completed);
  EXPECT_EQ(run_one(fast, 1), IterationOutcome::Completed);
  EXPECT_FALSE(slow_outcome->has_value());
  EXPECT_TRUE(luaload::test::run_until(&loop_, [&] { return slow_outcome->has_value(); }));
  EXPECT_EQ(*slow_outcome, IterationOutcome::Completed);
}

TEST_F(RuntimeTest, SleepInsideUserCoroutineSuspendsTheVuAndResumesTheCoroutine) {
  load(R"(
    local ll = require("luaload")
    function default()
      local co = coroutine.create(function(a)
        ll.sleep(0.01)
        local b = coroutine.yield(a + 1)
        ll.sleep(0.01)
        return b * 2
      end)
      local ok1, first = coroutine.resume(co, 1)
      local ok2, second = coroutine.resume(co, 10)
      if not (ok1 and ok2 and first == 2 and second == 20) then error("coroutine results wrong") end
      local gen = coroutine.wrap(function() ll.sleep(0.01); coroutine.yield("x"); return "y" end)
      if gen() ~= "x" or gen() ~= "y" then error("wrap results wrong") end
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  auto errors = runtime_->take_script_errors();
  EXPECT_TRUE(errors.empty()) << errors[0].traceback;
}

TEST_F(RuntimeTest, InterruptCancelsSleepAndReportsInterruptedOnALaterTurn) {
  load("local ll = require('luaload')\nfunction default() if ll.vu.iteration == 0 then ll.sleep(30) end end\n");
  VuBody& body = vu(1);
  auto outcome = start(body);
  uv_run(&loop_, UV_RUN_NOWAIT);
  body.interrupt();
  EXPECT_FALSE(outcome->has_value());
  EXPECT_TRUE(luaload::test::run_until(&loop_, [&] { return outcome->has_value(); }));
  EXPECT_EQ(*outcome, IterationOutcome::Interrupted);
  EXPECT_EQ(run_one(body, 1), IterationOutcome::Completed);  // a fresh coroutine runs the next iteration
}

}  // namespace
}  // namespace luaload::bindings::test
