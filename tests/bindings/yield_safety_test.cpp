// SPDX-License-Identifier: MIT
// Every binding that waits refuses to where the VU cannot be suspended (every C boundary LuaJIT has), and a refused
// wait leaves nothing behind: no armed timer, no pending record, no request on the wire. The scripts check their
// own expectations and raise on a mismatch; the tests read the outcomes, the script errors and what the server saw.
#include <gtest/gtest.h>

#include <string>

#include "bindings/runtime_fixture.hpp"

namespace luaload::bindings::test {
namespace {

// The boundaries: each calls `wait` where LuaJIT cannot yield. `ops`: every waiting binding, each with the words its
// refusal must contain. The stream and the task are made ready in the iteration (a yieldable place) first.
constexpr const char* kPrelude = R"lua(
  local ll = require("luaload")
  local http = require("luaload.http")
  local mcp = require("luaload.mcp")
  local function expect(cond, what) if not cond then error("expected " .. what, 2) end end

  local boundaries = {
    { "table.sort comparator", function(wait) table.sort({ 3, 1, 2 }, function(a, b) wait(); return a < b end) end },
    { "string.gsub callback", function(wait) string.gsub("abc", "%w", function() wait() end) end },
    { "require of a module", function(wait)
        package.loaded.waits_at_load = nil
        package.preload.waits_at_load = function() wait(); return {} end
        require("waits_at_load")
      end },
    { "__tostring from string.format", function(wait)
        string.format("%s", setmetatable({}, { __tostring = function() wait(); return "x" end }))
      end },
    { "__lt from table.sort", function(wait)
        local mt = { __lt = function(a, b) wait(); return a.v < b.v end }
        table.sort({ setmetatable({ v = 2 }, mt), setmetatable({ v = 1 }, mt) })
      end },
    { "load reader", function(wait)
        local ok, err = load(function() wait(); return nil end)
        if not ok then error(err, 0) end
      end },
    { "coroutine resumed from a comparator", function(wait)
        table.sort({ 3, 1, 2 }, function(a, b)
          local ok, err = coroutine.resume(coroutine.create(wait))
          if not ok then error(err, 0) end
          return a < b
        end)
      end },
    { "coroutine.wrap resumed from a string.gsub callback", function(wait)
        string.gsub("a", "a", function() coroutine.wrap(wait)() end)
      end },
  }
  -- (Not boundaries in LuaJIT, which yields across them: pcall, xpcall, metamethods called from Lua code,
  -- tostring's __tostring, table.foreach.)

  local function refused(boundary, op)
    local ok, err = pcall(boundary[2], op[2])
    err = tostring(err)
    expect(not ok and err:find(op[3] .. " cannot wait here", 1, true) ~= nil,
           op[1] .. " in a " .. boundary[1] .. " to be refused, got " .. (ok and "no error" or err))
  end
)lua";

class YieldSafetyTest : public RuntimeTest {
 protected:
  // A slow body (ten 200-byte pieces 10 ms apart), so that a stream reader that drained its queue has to wait.
  void serve_script(const std::string& body) {
    auto reply = respond(200, std::string(1800, 'x'));
    reply.drip_bytes = 200;
    reply.drip_interval_ms = 10;
    serve({reply}, std::string(kPrelude) + body);
  }
};

TEST_F(YieldSafetyTest, EveryWaitingBindingIsRefusedAtEveryCBoundaryAndLeavesNothingBehind) {
  serve_script(R"lua(
    local ev = ll.event()
    function default()
      local reader = http.stream("GET", ll.env.URL)          -- request 1: open, its head read
      expect(reader.status == 200, "the stream to open")
      reader:read()                                          -- drained: the next read has to wait
      local task = ll.spawn(function() ll.sleep(0.05) end)
      local session = mcp.new(ll.env.URL, { protocol_version = "2026-07-28" })
      assert(session:initialize())                           -- sends nothing at this revision
      local ops = {
        { "ll.sleep", function() ll.sleep(0.05) end, "ll.sleep" },
        { "http.get", function() http.get(ll.env.URL) end, "http.get" },
        { "http.post", function() http.post(ll.env.URL, "{}") end, "http.post" },
        { "http.request", function() http.request("PUT", ll.env.URL, "x") end, "http.request" },
        { "http.stream", function() http.stream("GET", ll.env.URL) end, "http.stream" },
        { "http.sse", function() http.sse(ll.env.URL) end, "http.sse" },
        { "reader:read", function() reader:read() end, "stream reader" },
        { "ev:wait", function() ev:wait(0.05) end, "ev:wait" },
        { "task:wait", function() task:wait() end, "task:wait" },
        { "an MCP call", function()
            local _, err = session:tools_list()
            if err then error(tostring(err.message or err), 0) end
          end, "cannot wait here" },
      }
      for _, boundary in ipairs(boundaries) do
        for _, op in ipairs(ops) do
          if op[3] == "cannot wait here" then
            local ok, err = pcall(boundary[2], op[2])
            expect(not ok and tostring(err):find("cannot wait here", 1, true) ~= nil,
                   op[1] .. " in a " .. boundary[1] .. " to be refused, got " .. tostring(err))
          else
            refused(boundary, op)
          end
        end
      end
      -- Nothing was left armed: a sleep lasts its whole time, the next request gets its own answer, the stream and
      -- the task go on as if nothing had happened.
      local started = ll.now()
      ll.sleep(0.1)
      local slept = ll.now() - started
      expect(slept >= 95, "the sleep not to be cut short by a stale wake-up, slept " .. slept)
      local res = http.get(ll.env.URL)                       -- request 2
      expect(res ~= nil and res.status == 200 and #res.body == 1800, "the request's own answer, got "
             .. tostring(res and res.status))
      local rest = 0
      while true do
        local chunk = reader:read()
        if chunk == nil then break end
        rest = rest + #chunk
      end
      expect(reader.error == nil and rest > 0, "the stream to end normally, error " .. tostring(reader.error))
      task:wait()
      expect(tostring(ev) == "luaload.Event (0 waiting)", "no waiter left: " .. tostring(ev))
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  EXPECT_EQ(server_->requests(), 2u) << "a refused request reached the server";
}

// Uncaught, the refusal fails the iteration and nothing else: the next iteration's sleep and request are its own.
TEST_F(YieldSafetyTest, AnUncaughtRefusalFailsOnlyItsIterationAndTheNextOneIsWhole) {
  serve_script(R"lua(
    function default()
      if ll.vu.iteration == 0 then
        table.sort({ 3, 1, 2 }, function(a, b) ll.sleep(0.05); return a < b end)
      end
      local started = ll.now()
      ll.sleep(0.1)
      expect(ll.now() - started >= 95, "a whole sleep")
      local res = http.get(ll.env.URL)
      expect(res.status == 200 and #res.body == 1800, "the request's own answer")
    end
  )lua");
  VuBody& body = vu(1);
  EXPECT_EQ(run_one(body, 0), IterationOutcome::Failed);
  const auto error = only_script_error();
  EXPECT_NE(error.message.find("ll.sleep cannot wait here"), std::string::npos) << error.message;
  EXPECT_EQ(run_one(body, 1), IterationOutcome::Completed);
  expect_no_script_errors();
  EXPECT_EQ(server_->requests(), 1u);
}

// ll.abort where the VU cannot yield still aborts: it raises through the script, nothing waits after it, and the
// VU ends as aborted, even when the script catches the error.
TEST_F(YieldSafetyTest, AnAbortAtACBoundaryAbortsAndNothingWaitsAfterIt) {
  serve_script(R"lua(
    local seen = ll.metrics.Counter("expectations_met")  -- an aborted VU's script errors are not reported
    function default()
      local ok, err = pcall(table.sort, { 3, 1, 2 }, function(a, b) ll.abort("from a comparator"); return a < b end)
      expect(not ok and tostring(err):find("test aborted: from a comparator", 1, true), "the abort to raise, got "
             .. tostring(err))
      seen:add(1)
      local sent, why = pcall(http.get, ll.env.URL)
      expect(not sent and tostring(why):find("http.get: the test was aborted", 1, true),
             "no request after the abort, got " .. tostring(why))
      seen:add(1)
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Aborted);
  EXPECT_EQ(server_->requests(), 0u);
  const auto delta = runtime_->registry().take_delta();
  const auto* met = find_series(delta, "expectations_met", {});
  ASSERT_NE(met, nullptr);
  EXPECT_EQ(met->sink.counter().sum, 2);
}

TEST_F(YieldSafetyTest, SleepArgumentErrorsNameLlSleep) {
  serve_script(R"lua(
    function default()
      for _, case in ipairs({ { "soon", "ll.sleep: seconds must be a number, got string" },
                              { -1, "ll.sleep: seconds must be a finite number >= 0" },
                              { 0 / 0, "ll.sleep: seconds must be a finite number >= 0" } }) do
        local ok, err = pcall(ll.sleep, case[1])
        expect(not ok and tostring(err):find(case[2], 1, true), case[2] .. ", got " .. tostring(err))
      end
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

}  // namespace
}  // namespace luaload::bindings::test
