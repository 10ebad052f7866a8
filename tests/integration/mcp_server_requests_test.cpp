// SPDX-License-Identifier: MIT
// luaload.mcp against a canned server (tests/support/misbehaving_server): an SSE answer that interleaves a
// notification, a comment, an empty-data event and two server requests before the response. The built-in target
// never sends server requests, hence the canned one.
#include "integration/mcp_fixture.hpp"
#include "support/server_thread.hpp"

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
    std::vector<Reply> replies = {
        {Reply::Action::Respond,
         http_response(200, kInitializeResult, "Content-Type: application/json\r\nMcp-Session-Id: canned-1\r\n")},
        {Reply::Action::Respond, http_response(202, "")},
        {Reply::Action::Respond, http_response(200, sse_answer(), "Content-Type: text/event-stream\r\n")},
        {Reply::Action::Respond, http_response(202, "")},
    };
    canned_ = std::make_unique<ServerThread>(std::move(replies));
    canned_->start();
  }

  void TearDown() override { canned_.reset(); }

  ProcessResult run_against_canned(const std::string& body) {
    auto path = dir_.write_file("script.lua", std::string(kMcpPrelude) + body);
    return run_process({LUALOAD_BINARY, "run", path.string(), "--quiet", "-i", "1", "-e",
                        "TARGET=http://127.0.0.1:" + std::to_string(canned_->server().port())},
                       std::chrono::milliseconds(20'000));
  }

  std::unique_ptr<ServerThread> canned_;
};

TEST_F(McpServerRequestsTest, ServerRequestsInAnSseAnswerAreAnsweredAndNotificationsDelivered) {
  auto r = run_against_canned(R"(
function default()
  local asked = {}
  local s = assert(mcp.connect(url, { protocol_version = "2025-11-25", on_request = function(m)
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
  canned_->stop();
  // initialize, notifications/initialized, tools/call, the answers to ping and roots/list, then the DELETE that
  // closes the session when the VU retires at the end of the test.
  const auto& seen = canned_->server().seen_requests();
  ASSERT_EQ(seen.size(), 6u);
  EXPECT_NE(seen[4].head.find("Mcp-Session-Id: canned-1"), std::string::npos) << seen[4].head;
  // {"jsonrpc":"2.0","id":"s2","result":{"answered":"roots"}} in whatever key order.
  EXPECT_EQ(seen[4].body_bytes, 57u);
  EXPECT_EQ(seen[5].head.rfind("DELETE ", 0), 0u) << seen[5].head;
  EXPECT_NE(seen[5].head.find("Mcp-Session-Id: canned-1"), std::string::npos) << seen[5].head;
}

}  // namespace
}  // namespace luaload::test
