// SPDX-License-Identifier: MIT
// ll.on_vu_end: hooks registered by a VU (in init code, iterations or tasks) run once, in order, when the worker's
// end phase runs them (run_vu_end_hooks) or when setup() returns; errors are reported, hangs are cut at the timeout.
// The hooks make requests to the scripted server, whose request count is what the tests check.
#include <gtest/gtest.h>

#include <chrono>

#include "bindings/runtime_fixture.hpp"
#include "engine/core/clock.hpp"

namespace luaload::bindings::test {
namespace {

constexpr int64_t kMs = 1'000'000;

class VuEndTest : public RuntimeTest {
 protected:
  // Serves 200 "ok" to every request and loads `code` with ll.env.URL.
  void serve_ok(const std::string& code) { serve({respond(200, "ok")}, code); }

  // Runs the end phase; returns how long it took (ms), -1 when `done` did not come within 5 s.
  double end_phase(int64_t timeout_ns, bool expect_hooks = true) {
    bool done = false;
    const int64_t started = core::mono_now_ns();
    EXPECT_EQ(runtime_->run_vu_end_hooks(timeout_ns, [&done] {
      EXPECT_FALSE(done) << "done ran twice";
      done = true;
    }), expect_hooks);
    EXPECT_FALSE(done) << "done ran from inside run_vu_end_hooks";
    if (!luaload::test::run_until(&loop_, [&] { return done; })) return -1;
    return static_cast<double>(core::mono_now_ns() - started) / 1e6;
  }

  std::vector<std::string> error_messages() {
    std::vector<std::string> messages;
    for (const auto& e : runtime_->take_script_errors()) {
      for (uint64_t i = 0; i < e.count; ++i) messages.push_back(e.message);
    }
    return messages;
  }
};

TEST_F(VuEndTest, HooksFromInitCodeIterationsAndTasksRunOnceInOrderWithNetworkCalls) {
  serve_ok(R"lua(
    local ll = require("luaload")
    local http = require("luaload.http")
    local order = {}
    local function hook(name)
      return function()
        order[#order + 1] = name
        if http.get(ll.env.URL .. name).status ~= 200 then error("request failed") end
        if name == "task" and table.concat(order, ",") ~= "init,iteration,task" then error(table.concat(order, ",")) end
      end
    end
    ll.on_vu_end(hook("init"))
    function default()
      if ll.vu.iteration > 0 then return end
      ll.on_vu_end(hook("iteration"))
      ll.spawn(function() ll.on_vu_end(hook("task")) end):wait()
    end
  )lua");
  VuBody& a = vu(1);
  VuBody& b = vu(2);
  EXPECT_EQ(run_one(a, 0), IterationOutcome::Completed);
  EXPECT_EQ(run_one(a, 1), IterationOutcome::Completed);
  EXPECT_EQ(run_one(b, 0), IterationOutcome::Completed);
  EXPECT_EQ(server_->requests(), 0u);
  EXPECT_GE(end_phase(5000 * kMs), 0);
  EXPECT_EQ(server_->requests(), 6u);  // three hooks in each of two VUs, each once
  expect_no_script_errors();
}

TEST_F(VuEndTest, ACancelledHookDoesNotRunAndCancelSaysWhetherItWasRegistered) {
  serve_ok(R"lua(
    local ll = require("luaload")
    local http = require("luaload.http")
    function default()
      local kept = ll.on_vu_end(function() http.get(ll.env.URL .. "kept") end)
      local dropped = ll.on_vu_end(function() http.get(ll.env.URL .. "dropped") end)
      if dropped:cancel() ~= true or dropped:cancel() ~= false then error("cancel() results") end
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  EXPECT_GE(end_phase(5000 * kMs), 0);
  EXPECT_EQ(server_->requests(), 1u);
  EXPECT_NE(server_->last_request_head().find("GET /kept"), std::string::npos) << server_->last_request_head();
  expect_no_script_errors();
}

TEST_F(VuEndTest, AnErrorInAHookIsReportedAndTheNextHookStillRuns) {
  serve_ok(R"lua(
    local ll = require("luaload")
    local http = require("luaload.http")
    ll.on_vu_end(function() error("cannot close the session") end)
    ll.on_vu_end(function() http.get(ll.env.URL) end)
    function default() end
  )lua");
  vu(1);
  vu(2);
  EXPECT_GE(end_phase(5000 * kMs), 0);
  EXPECT_EQ(server_->requests(), 2u);
  auto errors = runtime_->take_script_errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "script.lua:4: cannot close the session");
  EXPECT_EQ(errors[0].count, 2u);
  EXPECT_NE(errors[0].traceback.find("stack traceback"), std::string::npos);
}

TEST_F(VuEndTest, TheVusRunTheirHooksConcurrentlyAndAHangingHookIsCutAtTheTimeout) {
  serve_ok(R"lua(
    local ll = require("luaload")
    local http = require("luaload.http")
    ll.on_vu_end(function()
      if ll.vu.id == 1 then ll.sleep(60) end  -- hangs
      ll.sleep(0.1)
      http.get(ll.env.URL)
    end)
    function default() end
  )lua");
  for (uint64_t id = 1; id <= 3; ++id) vu(id);
  const double ms = end_phase(400 * kMs);
  EXPECT_GE(ms, 390);
  EXPECT_LT(ms, 2000);
  EXPECT_EQ(server_->requests(), 2u);  // VUs 2 and 3, at the same time (not 3 x 100 ms one after the other)
  EXPECT_EQ(error_messages(),
            std::vector<std::string>{"ll.on_vu_end: end hooks still running after vuEndTimeout (400 ms) were interrupted"});
}

TEST_F(VuEndTest, AZeroTimeoutInterruptsTheHooksOnTheNextTurn) {
  serve_ok(R"lua(
    local ll = require("luaload")
    ll.on_vu_end(function() ll.sleep(10) end)
    function default() end
  )lua");
  vu(1);
  const double ms = end_phase(0);
  EXPECT_GE(ms, 0);
  EXPECT_LT(ms, 1000);
  EXPECT_EQ(error_messages().size(), 1u);
}

TEST_F(VuEndTest, WithoutHooksThePhaseEndsOnTheNextTurnAndSaysSo) {
  load("function default() end");
  vu(1);
  EXPECT_GE(end_phase(5000 * kMs, /*expect_hooks=*/false), 0);
}

TEST_F(VuEndTest, AHookCannotRegisterHooksAndTheRegistrationIsBounded) {
  serve_ok(R"lua(
    local ll = require("luaload")
    local http = require("luaload.http")
    ll.on_vu_end(function()
      local ok, err = pcall(ll.on_vu_end, function() end)
      if ok or not err:find("already running its end hooks", 1, true) then error("registered: " .. tostring(err)) end
      http.get(ll.env.URL)
    end)
    function default()
      local hooks = {}
      for i = 1, 9999 do hooks[i] = ll.on_vu_end(function() end) end
      local ok, err = pcall(ll.on_vu_end, function() end)
      if ok or not err:find("already has 10000 end hooks", 1, true) then error("no bound: " .. tostring(err)) end
      for i = 1, 9999 do hooks[i]:cancel() end
      local bad_ok, bad = pcall(ll.on_vu_end, "not a function")
      if bad_ok or not bad:find("ll.on_vu_end: the argument must be a function", 1, true) then error(tostring(bad)) end
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  EXPECT_GE(end_phase(5000 * kMs), 0);
  EXPECT_EQ(server_->requests(), 1u);
  expect_no_script_errors();
}

TEST_F(VuEndTest, SetupsHooksRunWhenSetupReturnsBeforeItsResultIsReported) {
  serve_ok(R"lua(
    local ll = require("luaload")
    local http = require("luaload.http")
    function setup()
      ll.on_vu_end(function() http.get(ll.env.URL .. "setup-end") end)
      return { ok = true }
    end
    function default() end
  )lua");
  bool done = false;
  std::optional<std::string> json;
  runtime_->run_setup([&](std::optional<std::string> result, std::string error) {
    EXPECT_EQ(server_->requests(), 1u) << "setup reported before its end hook ran";
    EXPECT_EQ(error, "");
    json = std::move(result);
    done = true;
  });
  ASSERT_TRUE(luaload::test::run_until(&loop_, [&] { return done; }));
  EXPECT_EQ(json.value_or(""), R"({"ok":true})");
  EXPECT_NE(server_->last_request_head().find("GET /setup-end"), std::string::npos);
}

TEST_F(VuEndTest, ARuntimeClosedDuringTheEndPhaseInterruptsTheHooksAndNeverReports) {
  serve_ok(R"lua(
    local ll = require("luaload")
    ll.on_vu_end(function() ll.sleep(60) end)
    function default() end
  )lua");
  vu(1);
  bool done = false;
  EXPECT_TRUE(runtime_->run_vu_end_hooks(60'000 * kMs, [&done] { done = true; }));
  luaload::test::run_until(&loop_, [] { return false; }, 30);
  bool closed = false;
  runtime_->close([&closed] { closed = true; });
  ASSERT_TRUE(luaload::test::run_until(&loop_, [&] { return closed; }));
  runtime_.reset();
  EXPECT_FALSE(done);
}

}  // namespace
}  // namespace luaload::bindings::test
