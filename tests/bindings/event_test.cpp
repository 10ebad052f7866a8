// SPDX-License-Identifier: MIT
// ll.event(): waits and notifies between VUs and tasks of one worker, timeouts, interrupts, and waits refused at C
// boundaries. The scripts check their own expectations and raise on a mismatch; the tests read the outcomes, the
// script errors and the counters the scripts record.
#include <gtest/gtest.h>

#include "bindings/runtime_fixture.hpp"

namespace luaload::bindings::test {
namespace {

// Every VU of the worker sees the same `shared` table (package.loaded is per Lua state).
constexpr const char* kPrelude = R"lua(
  local ll = require("luaload")
  package.loaded.shared_events = package.loaded.shared_events or { ev = ll.event(), other = ll.event() }
  local shared = package.loaded.shared_events
  local function expect(cond, what) if not cond then error("expected " .. what, 2) end end
)lua";

class EventTest : public RuntimeTest {
 protected:
  void load_script(const std::string& body) { load(std::string(kPrelude) + body); }

  // Runs every body's iteration at once, to the end of all of them.
  std::vector<IterationOutcome> run_together(const std::vector<VuBody*>& bodies) {
    std::vector<std::shared_ptr<std::optional<IterationOutcome>>> slots;
    for (VuBody* body : bodies) slots.push_back(start(*body));
    EXPECT_TRUE(luaload::test::run_until(&loop_, [&] {
      for (auto& slot : slots) {
        if (!slot->has_value()) return false;
      }
      return true;
    }));
    std::vector<IterationOutcome> outcomes;
    for (auto& slot : slots) outcomes.push_back(slot->value_or(IterationOutcome::Interrupted));
    return outcomes;
  }

  double counter_sum(const engine::metrics::Delta& delta, const std::string& name) {
    const auto* series = find_series(delta, name, {});
    return series != nullptr ? series->sink.counter().sum : -1;
  }
};

TEST_F(EventTest, AWaitingVuIsWokenByANotifyFromAnotherVu) {
  load_script(R"lua(
    function default()
      if ll.vu.id == 1 then
        local started = ll.now()
        expect(shared.ev:wait(5) == true, "wait() to return true")
        expect(ll.now() - started < 2000, "the wake to come long before the timeout")
      else
        ll.sleep(0.05)
        expect(shared.ev:notify() == 1, "notify() to wake the one waiter")
      end
    end
  )lua");
  auto outcomes = run_together({&vu(1), &vu(2)});
  EXPECT_EQ(outcomes, std::vector<IterationOutcome>(2, IterationOutcome::Completed));
  expect_no_script_errors();
}

TEST_F(EventTest, NotifyWakesTheWaitersOnALaterTurnNeverInsideTheCall) {
  load_script(R"lua(
    function default()
      local woken = 0
      local tasks = {}
      for i = 1, 3 do
        tasks[i] = ll.spawn(function() local ok = shared.ev:wait(); woken = woken + 1; return ok end)
      end
      ll.sleep(0.01)  -- the tasks start and wait
      expect(shared.ev:notify() == 3, "three waiters woken")
      expect(woken == 0, "no waiter resumed inside notify()")
      for i = 1, 3 do expect(tasks[i]:wait() == true, "each task's wait() to return true") end
      expect(woken == 3, "all three resumed")
      expect(shared.ev:notify() == 0, "nobody left to wake")
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(EventTest, ATimeoutReturnsFalseAndALaterNotifyFindsNobody) {
  load_script(R"lua(
    function default()
      local started = ll.now()
      expect(shared.ev:wait(0.05) == false, "wait() to time out")
      local waited = ll.now() - started
      expect(waited >= 45 and waited < 1000, "about 50 ms of waiting, got " .. waited)
      expect(shared.ev:notify() == 0, "the timed-out waiter to be off the list")
      expect(shared.ev:wait(0) == false, "wait(0) to time out on the next turn")
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(EventTest, ANotifyWakesOnlyTheWaitersOfItsOwnEvent) {
  load_script(R"lua(
    function default()
      local helper = ll.spawn(function()
        ll.sleep(0.02)
        local other = shared.other:notify()
        ll.sleep(0.02)
        return other, shared.ev:notify()
      end)
      expect(shared.other:wait(0.001) == false, "the first wait to time out")
      local started = ll.now()
      expect(shared.ev:wait(5) == true, "the second wait to be notified")
      expect(ll.now() - started >= 30, "no early wake from the other event")
      local other, ev = helper:wait()
      expect(other == 0 and ev == 1, "notify counts 0 and 1, got " .. other .. " and " .. ev)
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(EventTest, ManyVusWaitForOneFetchAndAllSeeItsResult) {
  load_script(R"lua(
    local fetches = ll.metrics.Counter("fetches")
    local served = ll.metrics.Counter("served")
    shared.token = nil
    function default()
      if shared.token == nil and not shared.fetching then
        shared.fetching = true
        ll.sleep(0.05)  -- the one fetch
        fetches:add(1)
        shared.token = "t1"
        shared.fetching = false
        shared.ev:notify()
      elseif shared.token == nil then
        expect(shared.ev:wait(5) == true, "the waiters to be notified")
      end
      expect(shared.token == "t1", "every VU to see the token")
      served:add(1)
    end
  )lua");
  std::vector<VuBody*> bodies;
  for (uint64_t id = 1; id <= 50; ++id) bodies.push_back(&vu(id));
  auto outcomes = run_together(bodies);
  EXPECT_EQ(outcomes, std::vector<IterationOutcome>(50, IterationOutcome::Completed));
  expect_no_script_errors();
  auto delta = runtime_->registry().take_delta();
  EXPECT_EQ(counter_sum(delta, "fetches"), 1);
  EXPECT_EQ(counter_sum(delta, "served"), 50);
}

TEST_F(EventTest, AnInterruptedWaiterIsDroppedAndItsVuWaitsAgainNextIteration) {
  load_script(R"lua(
    function default()
      if ll.vu.id == 1 then
        expect(shared.ev:wait() == true, "wait() to return true")
      else
        local woken = shared.ev:notify()
        expect(woken == ll.vu.iteration, "notify() to wake " .. ll.vu.iteration .. ", woke " .. woken)
      end
    end
  )lua");
  VuBody& waiter = vu(1);
  VuBody& notifier = vu(2);
  auto first = start(waiter, 0);
  luaload::test::run_until(&loop_, [] { return false; }, 30);
  waiter.interrupt();
  ASSERT_TRUE(luaload::test::run_until(&loop_, [&] { return first->has_value(); }));
  EXPECT_EQ(*first, IterationOutcome::Interrupted);
  EXPECT_EQ(run_one(notifier, 0), IterationOutcome::Completed);  // finds no waiter
  auto second = start(waiter, 1);
  luaload::test::run_until(&loop_, [] { return false; }, 30);
  EXPECT_EQ(run_one(notifier, 1), IterationOutcome::Completed);  // wakes the new wait
  ASSERT_TRUE(luaload::test::run_until(&loop_, [&] { return second->has_value(); }));
  EXPECT_EQ(*second, IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(EventTest, ATaskStillWaitingWhenItsIterationEndsIsDropped) {
  load_script(R"lua(
    function default()
      if ll.vu.iteration == 0 then
        shared.task = ll.spawn(function() shared.ev:wait(); shared.resumed = true end)
        ll.sleep(0.01)
        return  -- the task is interrupted here
      end
      expect(shared.ev:notify() == 0, "the interrupted task to be off the list")
      ll.sleep(0.01)
      expect(not shared.resumed, "the task never to resume")
      local ok, err = pcall(shared.task.wait, shared.task)
      expect(not ok and err:find("task interrupted"), "the task to be interrupted, got " .. tostring(err))
    end
  )lua");
  VuBody& body = vu(1);
  EXPECT_EQ(run_one(body, 0), IterationOutcome::Completed);
  EXPECT_EQ(run_one(body, 1), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(EventTest, AVuDestroyedOrARuntimeClosedWhileWaitingLeavesNothingBehind) {
  load_script(R"lua(
    function default()
      if ll.vu.id == 3 then
        expect(shared.ev:notify() == 1, "only the waiter that is still alive to be woken")
        return
      end
      shared.ev:wait()
    end
  )lua");
  VuBody& gone = vu(1);
  VuBody& stays = vu(2);
  auto a = start(gone);
  auto b = start(stays);
  luaload::test::run_until(&loop_, [] { return false; }, 30);
  vus_.erase(vus_.begin());  // destroys VU 1 while it waits
  EXPECT_EQ(run_one(vu(3)), IterationOutcome::Completed);
  ASSERT_TRUE(luaload::test::run_until(&loop_, [&] { return b->has_value(); }));
  EXPECT_EQ(*b, IterationOutcome::Completed);
  EXPECT_FALSE(a->has_value());
  expect_no_script_errors();
  auto c = start(stays);  // waits again, and the runtime closes under it
  luaload::test::run_until(&loop_, [] { return false; }, 10);
  bool closed = false;
  runtime_->close([&closed] { closed = true; });
  EXPECT_TRUE(luaload::test::run_until(&loop_, [&] { return closed; }));
  runtime_.reset();
  EXPECT_FALSE(c->has_value());
}

TEST_F(EventTest, AWaitInsideAUserCoroutineSuspendsTheVuAndResumesTheCoroutine) {
  load_script(R"lua(
    function default()
      ll.spawn(function() ll.sleep(0.02); shared.ev:notify() end)
      local co = coroutine.wrap(function() local ok = shared.ev:wait(5); coroutine.yield(ok); return "done" end)
      expect(co() == true, "the coroutine's wait to be notified")
      expect(co() == "done", "the coroutine to go on after it")
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

// Each case calls ev:wait(0.05) where the VU cannot be suspended: the wait must raise, and leave no waiter on the
// event and no armed timer (the sleep after it lasts its whole 100 ms instead of being cut by a stale wake-up).
TEST_F(EventTest, AWaitAcrossACBoundaryRaisesAndLeavesNothingBehind) {
  load_script(R"lua(
    local function refused(name, fn)
      local ok, err = pcall(fn)
      expect(not ok and tostring(err):find("ev:wait cannot wait here", 1, true), name .. " to refuse the wait, got "
             .. tostring(err))
      expect(tostring(shared.ev) == "luaload.Event (0 waiting)", name .. " to leave no waiter: " .. tostring(shared.ev))
    end
    local function wait() shared.ev:wait(0.05) end
    function default()
      refused("table.sort", function() table.sort({ 3, 1, 2 }, function(a, b) wait(); return a < b end) end)
      refused("string.gsub", function() string.gsub("abc", "%w", function() wait() end) end)
      package.preload.waits_at_load = function() wait(); return {} end
      refused("require", function() require("waits_at_load") end)
      refused("a coroutine resumed from a comparator", function()
        table.sort({ 3, 1, 2 }, function(a, b)
          local ok, err = coroutine.resume(coroutine.create(wait))
          if not ok then error(err, 0) end
          return a < b
        end)
      end)
      local started = ll.now()
      ll.sleep(0.1)
      local slept = ll.now() - started
      expect(slept >= 95, "the sleep not to be cut short by a stale wake-up, slept " .. slept)
      expect(shared.ev:notify() == 0, "nobody to wake")
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(EventTest, BadArgumentsAreScriptErrors) {
  load_script(R"lua(
    function default()
      local cases = {
        { function() shared.ev:wait(-1) end, "between 0 and a year" },
        { function() shared.ev:wait(0 / 0) end, "between 0 and a year" },
        { function() shared.ev:wait("soon") end, "number expected" },
        { function() shared.ev.wait({}) end, "luaload.Event expected" },
        { function() shared.ev.notify(nil) end, "luaload.Event expected" },
      }
      for i, case in ipairs(cases) do
        local ok, err = pcall(case[1])
        expect(not ok and err:find(case[2], 1, true), "case " .. i .. " to raise " .. case[2] .. ", got " .. tostring(err))
      end
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(EventTest, NotifyWorksInInitCodeButWaitIsRefusedThere) {
  load("local ev = require('luaload').event()\nev:notify()\nev:wait(1)\nfunction default() end\n");
  std::string error;
  EXPECT_EQ(runtime_->create_vu(1, &error), nullptr);
  EXPECT_NE(error.find("script.lua:3: ev:wait cannot be called in the init context"), std::string::npos) << error;
}

}  // namespace
}  // namespace luaload::bindings::test
