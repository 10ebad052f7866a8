// SPDX-License-Identifier: MIT
// luaload.mcp against a canned server (tests/support/misbehaving_server): an SSE answer that interleaves a
// notification, a comment, an empty-data event and two server requests before the response. The built-in target
// never sends server requests, hence the canned one.
#include <uv.h>

#include <thread>

#include "integration/mcp_fixture.hpp"
#include "support/misbehaving_server.hpp"

namespace luaload::test {
namespace {

constexpr const char* kInitializeResult =
    R"({"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-11-25","capabilities":{},)"
    R"("serverInfo":{"name":"canned","version":"1"}}})";

std::string sse_answer() {
  return "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\","
         "\"params\":{\"level\":\"info\",\"data\":\"working\"}}\n\n"
         ": a comment\n\n"
         "data:\n\n"
         "data: {\"jsonrpc\":\"2.0\",\"id\":\"s1\",\"method\":\"ping\"}\n\n"
         "data: {\"jsonrpc\":\"2.0\",\"id\":\"s2\",\"method\":\"roots/list\"}\n\n"
         "event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"content\":"
         "[{\"type\":\"text\",\"text\":\"done\"}]}}\r\n\r\n";
}

// The canned server runs on a loop of its own thread while `luaload run` blocks the test thread.
class McpServerRequestsTest : public McpTest {
 protected:
  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    std::vector<Reply> replies = {
        {Reply::Action::Respond,
         http_response(200, kInitializeResult, "Content-Type: application/json\r\nMcp-Session-Id: canned-1\r\n")},
        {Reply::Action::Respond, http_response(202, "")},
        {Reply::Action::Respond, http_response(200, sse_answer(), "Content-Type: text/event-stream\r\n")},
        {Reply::Action::Respond, http_response(202, "")},
    };
    server_ = std::make_unique<MisbehavingServer>(&loop_, std::move(replies));
    async_.data = this;
    uv_async_init(&loop_, &async_, [](uv_async_t* a) {
      auto* self = static_cast<McpServerRequestsTest*>(a->data);
      self->server_->close([] {});
      uv_close(reinterpret_cast<uv_handle_t*>(a), nullptr);
    });
    thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
    stopped_ = false;
  }

  void TearDown() override {
    stop_server();
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  // Closes the server on its loop and joins the thread; afterwards its counters may be read here. Idempotent.
  void stop_server() {
    if (stopped_) return;
    stopped_ = true;
    uv_async_send(&async_);
    thread_.join();
  }

  ProcessResult run_against_canned(const std::string& body) {
    auto path = dir_.write_file("script.lua", std::string(kMcpPrelude) + body);
    return run_process({LUALOAD_BINARY, "run", path.string(), "--quiet", "-i", "1", "-e",
                        "TARGET=http://127.0.0.1:" + std::to_string(server_->port())},
                       std::chrono::milliseconds(20'000));
  }

  uv_loop_t loop_{};
  uv_async_t async_{};
  std::unique_ptr<MisbehavingServer> server_;
  std::thread thread_;
  bool stopped_ = true;  // until the loop thread runs
};

TEST_F(McpServerRequestsTest, ServerRequestsInAnSseAnswerAreAnsweredAndNotificationsDelivered) {
  auto r = run_against_canned(R"(
function default()
  local asked = {}
  local s = assert(mcp.connect(url, { on_request = function(m)
    asked[#asked + 1] = m.method
    if m.method == "roots/list" then return { answered = "roots" } end
  end }))
  out("session", s.id)
  local result, err, notes = s:call_tool("work", {})
  out("text", result.content[1].text)
  out("err", err)
  out("notes", #notes .. " " .. notes[1].method .. " " .. notes[1].params.data)
  out("asked", table.concat(asked, ","))
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "session=canned-1");
  LUALOAD_EXPECT_LINE(r, "text=done");
  LUALOAD_EXPECT_LINE(r, "err=nil");
  LUALOAD_EXPECT_LINE(r, "notes=1 notifications/message working");
  LUALOAD_EXPECT_LINE(r, "asked=ping,roots/list");
  stop_server();
  // initialize, notifications/initialized, tools/call, then the answers to ping and roots/list.
  EXPECT_EQ(server_->requests(), 5u);
  EXPECT_NE(server_->last_request_head().find("Mcp-Session-Id: canned-1"), std::string::npos)
      << server_->last_request_head();
  // {"jsonrpc":"2.0","id":"s2","result":{"answered":"roots"}} in whatever key order.
  EXPECT_EQ(server_->last_request_body_bytes(), 57u);
}

}  // namespace
}  // namespace luaload::test
