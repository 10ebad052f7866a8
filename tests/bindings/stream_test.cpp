// SPDX-License-Identifier: MIT
// http.stream / http.sse readers and ll.spawn against the built-in target (in-process, its own threads) and the
// scripted misbehaving server.
#include <gtest/gtest.h>

#include <csignal>
#include <memory>

#include "bindings/runtime_fixture.hpp"
#include "engine/metrics/builtin.hpp"
#include "engine/target/target_server.hpp"
#include "support/misbehaving_server.hpp"
#include "support/tls_fixtures.hpp"

namespace luaload::bindings::test {
namespace {

using luaload::test::MisbehavingServer;
using luaload::test::Reply;

class StreamTest : public RuntimeTest {
 protected:
  // The in-process target writes to sockets the client closed (early close tests); as in the luaload binary,
  // that must be EPIPE, not a fatal SIGPIPE.
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  void TearDown() override {
    RuntimeTest::TearDown();
    if (target_ != nullptr) {
      EXPECT_TRUE(target_->stop());
    }
  }

  // Loads `code` with ll.env.TARGET (the built-in target) and, with replies, ll.env.URL (the scripted server).
  void serve(const std::string& code, std::vector<Reply> replies = {}, RuntimeConfig config = {},
             engine::target::TargetOptions options = {}) {
    std::string error;
    target_ = engine::target::TargetServer::create(options, &error);
    ASSERT_NE(target_, nullptr) << error;
    config.env["TARGET"] = target_->url();
    if (!replies.empty()) {
      server_ = std::make_unique<MisbehavingServer>(&loop_, std::move(replies));
      config.env["URL"] = server_->url("/");
    }
    load(code, config);
  }

  void expect_no_script_errors() {
    auto errors = runtime_->take_script_errors();
    EXPECT_TRUE(errors.empty()) << errors[0].traceback;
  }

  // The one script error, or "" (fails the test when there are several).
  std::string only_error() {
    auto errors = runtime_->take_script_errors();
    EXPECT_LE(errors.size(), 1u);
    return errors.empty() ? "" : errors[0].message;
  }

  std::unique_ptr<engine::target::TargetServer> target_;
};

TEST_F(StreamTest, SseReaderYieldsEveryEventOfTheTargetStream) {
  serve(R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local reader = http.sse(ll.env.TARGET .. "/sse?events=5&interval=10ms")
      assert(reader.status == 200, "status " .. tostring(reader.status))
      assert(reader.headers["content-type"] == "text/event-stream", "content type")
      local n = 0
      for ev in reader:events() do
        assert(ev.event == "tick", "event " .. ev.event)
        assert(ev.id == tostring(n), "id " .. ev.id)
        assert(ev.data == '{"n":' .. n .. ',"total":5}', "data " .. ev.data)
        n = n + 1
      end
      assert(n == 5, "events: " .. n)
      assert(reader.error == nil, "error " .. tostring(reader.error))
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}


const char kChunkedSse[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

Reply partial_stream(bool close_after) {
  Reply reply;
  reply.bytes = std::string(kChunkedSse) + "f\r\ndata: first\n\nda\r\n";
  reply.close_after = close_after;
  return reply;
}

TEST_F(StreamTest, ATaskReadsAStreamWhileTheVuMakesOtherRequests) {
  serve(R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local reader = http.sse(ll.env.TARGET .. "/sse?events=5&interval=200ms")
      local task = ll.spawn(function(prefix)
        local seen = {}
        for ev in reader:events() do seen[#seen + 1] = prefix .. ev.id end
        return table.concat(seen, ","), #seen
      end, "e")
      for i = 1, 3 do
        local res = http.get(ll.env.TARGET .. "/health")
        assert(res.status == 200, "health " .. res.status)
      end
      assert(not task:done(), "the stream should still be open while the VU made its requests")
      local ids, count = task:wait()
      assert(ids == "e0,e1,e2,e3,e4" and count == 5, "task results: " .. tostring(ids) .. " " .. tostring(count))
      assert(task:done(), "done after wait")
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(StreamTest, TheIdleTimeoutEndsASilentStreamWithAnError) {
  serve(R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local reader = http.stream("GET", ll.env.URL, nil, { idle_timeout = "150ms" })
      assert(reader.status == 200, "status")
      local first = reader:read()
      assert(first == "data: first\n\nda", "first chunk: " .. tostring(first))
      assert(reader:read() == nil, "end")
      assert(reader.error_code == 1050, "error_code " .. tostring(reader.error_code))
      assert(reader.error == "idle timeout: no data for 150 ms", "error " .. tostring(reader.error))
    end
  )", {partial_stream(false)});
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(StreamTest, AServerDyingMidStreamEndsTheReaderWithAnError) {
  serve(R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local reader = http.sse(ll.env.URL)
      local events = {}
      for ev in reader:events() do events[#events + 1] = ev.data end
      assert(#events == 1 and events[1] == "first", "events before the close")
      assert(reader.error_code == 1403, "error_code " .. tostring(reader.error_code))
    end
  )", {partial_stream(true)});
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(StreamTest, CloseStopsAStreamEarlyWithoutFailingTheRequest) {
  serve(R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local reader = http.sse(ll.env.TARGET .. "/sse?events=1000&interval=20ms")
      local events = reader:events()
      assert(events().id == "0" and events().id == "1", "first two events")
      reader:close()
      assert(events() == nil and reader.error == nil, "nothing after close")
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  luaload::test::run_until(&loop_, [] { return false; }, 50);
  auto delta = runtime_->registry().take_delta();
  auto* failed = find_series(delta, "http_req_failed", {{"status", "200"}});
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->sink.rate().total, 1u);
  EXPECT_EQ(failed->sink.rate().passes, 0u);
  auto* events = find_series(delta, "stream_events", {});
  ASSERT_NE(events, nullptr);
  EXPECT_GE(events->sink.counter().sum, 2.0);
}

TEST_F(StreamTest, RecordsStreamMetricsAndTimesTheRequestToItsHead) {
  serve(R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local reader = http.sse(ll.env.TARGET .. "/sse?events=3&interval=100ms", { tags = { name = "ticks" } })
      for ev in reader:events() do end
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  auto delta = runtime_->registry().take_delta();
  const engine::metrics::Tags tags = {{"name", "ticks"}, {"status", "200"}, {"method", "GET"}};
  auto* events = find_series(delta, "stream_events", tags);
  auto* first = find_series(delta, "stream_time_to_first_event", tags);
  auto* duration = find_series(delta, "stream_duration", tags);
  auto* bytes = find_series(delta, "stream_bytes", tags);
  auto* req = find_series(delta, "http_req_duration", tags);
  ASSERT_TRUE(events && first && duration && bytes && req);
  EXPECT_EQ(events->sink.counter().sum, 3.0);
  EXPECT_EQ(first->sink.trend().count(), 1u);
  EXPECT_EQ(duration->sink.trend().count(), 1u);
  EXPECT_GE(duration->sink.trend().max(), 190.0);  // three events 100 ms apart (server timers round to ms)
  EXPECT_LT(req->sink.trend().max(), duration->sink.trend().max() / 2);  // timed to the head, not the end
  // "id: 0\nevent: tick\ndata: {"n":0,"total":3}\n\n" is 43 bytes, for each of the three events.
  EXPECT_EQ(bytes->sink.counter().sum, 129.0);
}

TEST_F(StreamTest, AFastLargeBodyReadSlowlyIsHeldInBoundedMemory) {
  serve(R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local reader = http.stream("GET", ll.env.TARGET .. "/content/custom?size=8000000")
      local largest, total = 0, 0
      for i = 1, 5 do
        ll.sleep(0.05)
        local chunk = reader:read()
        assert(chunk, "read " .. i .. ": " .. tostring(reader.error) .. " status " .. reader.status .. " total " .. total)
        largest = math.max(largest, #chunk)
        total = total + #chunk
      end
      assert(largest <= 256 * 1024 + 64 * 1024, "a read returned " .. largest .. " bytes")
      while true do
        local chunk = reader:read()
        if not chunk then break end
        total = total + #chunk
      end
      assert(total == 8000000, "total " .. total)
      assert(reader.error == nil, "error " .. tostring(reader.error))
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(StreamTest, StreamsWorkOverTls) {
  const auto& files = luaload::test::tls_files();
  engine::target::TargetOptions options;
  options.tls_cert_file = files.server_cert;
  options.tls_key_file = files.server_key;
  RuntimeConfig config;
  config.ca_file = files.ca_cert;
  serve(R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      assert(ll.env.TARGET:sub(1, 8) == "https://", ll.env.TARGET)
      local reader = http.sse(ll.env.TARGET .. "/sse?events=3&interval=5ms")
      local n = 0
      for ev in reader:events() do n = n + 1 end
      assert(n == 3 and reader.error == nil, "events " .. n .. " " .. tostring(reader.error))
    end
  )", {}, config, options);
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(StreamTest, TheEndOfTheIterationInterruptsItsTasksAndClosesItsStreams) {
  serve(R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    local task
    function default()
      if ll.vu.iteration == 0 then
        task = ll.spawn(function()
          local reader = http.sse(ll.env.TARGET .. "/sse?events=1000&interval=50ms")
          for ev in reader:events() do end
        end)
        ll.sleep(0.1)
        return
      end
      assert(task:done(), "an interrupted task is done")
      local ok, err = pcall(task.wait, task)
      assert(not ok and err == "task interrupted: the iteration that spawned it ended", tostring(err))
    end
  )");
  auto& body = vu(1);
  EXPECT_EQ(run_one(body, 0), IterationOutcome::Completed);
  EXPECT_EQ(run_one(body, 1), IterationOutcome::Completed);
  expect_no_script_errors();
}

// The iteration waits until the task has run (not a fixed 50 ms: a starved loop can see that sleep's timer due
// before the new task first runs, and then the iteration's end interrupts a task that never started).
TEST_F(StreamTest, AnErrorInATaskNobodyWaitsForIsReportedLikeAnIterationError) {
  serve(R"(
    local ll = require("luaload")
    function default()
      local started = false
      ll.spawn(function() started = true error("boom in task") end)
      for _ = 1, 500 do if started then break end ll.sleep(0.01) end
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  EXPECT_EQ(only_error(), "script.lua:5: boom in task");
}

TEST_F(StreamTest, WaitRaisesTheErrorOfAFailedTask) {
  serve(R"(
    local ll = require("luaload")
    function default()
      local task = ll.spawn(function() ll.sleep(0.01); error("task failed") end)
      task:wait()
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Failed);
  EXPECT_EQ(only_error(), "script.lua:4: task failed");
}

TEST_F(StreamTest, InterruptingAVuWaitingOnAStreamLeavesNothingOpen) {
  serve(R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local reader = http.sse(ll.env.TARGET .. "/sse?events=1000&interval=50ms")
      ll.spawn(function() ll.sleep(10) end)
      for ev in reader:events() do end
    end
  )");
  auto& body = vu(1);
  auto outcome = start(body);
  luaload::test::run_until(&loop_, [] { return false; }, 150);
  body.interrupt();
  ASSERT_TRUE(luaload::test::run_until(&loop_, [&] { return outcome->has_value(); }));
  EXPECT_EQ(**outcome, IterationOutcome::Interrupted);
}

// Opens an MCP session on the target with plain http.post and returns (mcp url, session id): the GET stream needs it.
constexpr const char* kMcpSession = R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    local function open_session()
      local url = ll.env.TARGET .. "/mcp"
      local res = http.post(url, ll.json.encode({ jsonrpc = "2.0", id = 1, method = "initialize", params = {
        protocolVersion = "2025-11-25", capabilities = {}, clientInfo = { name = "t", version = "1" } } }),
        { headers = { ["Content-Type"] = "application/json", Accept = "application/json, text/event-stream" } })
      assert(res.status == 200, "initialize " .. res.status)
      return url, res.headers["mcp-session-id"]
    end
)";

TEST_F(StreamTest, TheMcpGetStreamStaysOpenOnHeartbeatsAndEndsWhenTheSessionIsDeleted) {
  engine::target::TargetOptions options;
  options.mcp_heartbeat_ms = 50;
  serve(std::string(kMcpSession) + R"(
    function default()
      local url, session = open_session()
      local reader = http.sse(url, { headers = { ["Mcp-Session-Id"] = session }, idle_timeout = 0.4 })
      assert(reader.status == 200, "GET stream " .. reader.status)
      local listener = ll.spawn(function()
        local n = 0
        for ev in reader:events() do n = n + 1 end
        return n, reader.error
      end)
      ll.sleep(0.6)  -- heartbeat comments keep the stream alive past its idle timeout
      assert(not listener:done(), "the stream ended early: " .. tostring(reader.error))
      local res = http.del(url, nil, { headers = { ["Mcp-Session-Id"] = session } })
      assert(res.status == 204, "delete " .. res.status)
      local events, err = listener:wait()
      assert(events == 0 and err == nil, "events " .. events .. " error " .. tostring(err))
    end
  )", {}, {}, options);
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(StreamTest, TheIdleTimeoutEndsAnMcpGetStreamWhoseHeartbeatsAreTooRare) {
  serve(std::string(kMcpSession) + R"(
    function default()
      local url, session = open_session()
      local reader = http.sse(url, { headers = { ["Mcp-Session-Id"] = session }, idle_timeout = "100ms" })
      for ev in reader:events() do end
      assert(reader.error_code == 1050, "error_code " .. tostring(reader.error_code))
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(StreamTest, AStreamCanBeReadInsideAUserCoroutine) {
  serve(R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local reader = http.sse(ll.env.TARGET .. "/sse?events=3&interval=10ms")
      local next_event = coroutine.wrap(function()
        for ev in reader:events() do coroutine.yield(ev.id) end
        return "end"
      end)
      local seen = { next_event(), next_event(), next_event(), next_event() }
      assert(table.concat(seen, ",") == "0,1,2,end", table.concat(seen, ","))
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(StreamTest, MixingReadAndEventsOnOneReaderRaisesAClearError) {
  serve(R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local reader = http.sse(ll.env.TARGET .. "/sse?events=2&interval=10ms")
      reader:read()
      reader:events()()
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Failed);
  EXPECT_NE(only_error().find("reader:events() cannot follow reader:read()"), std::string::npos);
}

TEST_F(StreamTest, ARefusedConnectionGivesAReaderWithStatusZeroAndTheError) {
  serve(R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local reader = http.stream("GET", "http://127.0.0.1:)" + std::to_string(luaload::test::unused_port()) + R"(/")
      assert(reader.status == 0 and reader.error_code == 1212, "error_code " .. tostring(reader.error_code))
      assert(reader:read() == nil, "no body")
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

}  // namespace
}  // namespace luaload::bindings::test
