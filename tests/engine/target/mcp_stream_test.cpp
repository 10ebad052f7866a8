// SPDX-License-Identifier: MIT
// Long-lived and multi-step /mcp streams: subscriptions/listen (modern), the session's GET stream, server requests
// answered while their POST stream stays open, and resumable POST streams (GET + Last-Event-ID).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/target/mcp_fixture.hpp"

namespace luaload::test {
namespace {

using engine::target::TargetOptions;
using json = nlohmann::json;

class McpStreamTest : public McpTest {
 protected:
  // Sends `message` on `stream` as a raw POST without reading the answer: the test reads it piece by piece.
  void send_raw(BlockingClient& stream, const json& message, const std::string& headers) {
    std::string body = message.dump();
    ASSERT_TRUE(stream.send("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + "Content-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body));
  }
  void send_modern(BlockingClient& stream, const json& message) { send_raw(stream, message, modern_headers(message)); }
  std::string legacy_headers(const std::string& session, const std::string& version) {
    return std::string(kAcceptBoth) + kJsonBody + "Mcp-Session-Id: " + session + "\r\nMCP-Protocol-Version: " +
           version + "\r\n";
  }

  // Reads `stream` until `marker` shows up in the de-chunked body; returns all the body read so far.
  std::string read_body_until(BlockingClient& stream, const std::string& marker) {
    raw_ += stream.read_until(marker);
    return dechunk(raw_);
  }

  static std::string dechunk(const std::string& raw) {
    size_t pos = raw.find("\r\n\r\n");
    if (pos == std::string::npos) return "";
    pos += 4;
    std::string body;
    while (pos < raw.size()) {
      size_t eol = raw.find("\r\n", pos);
      if (eol == std::string::npos) break;
      size_t size = std::stoul(raw.substr(pos, eol - pos), nullptr, 16);
      if (size == 0 || eol + 2 + size > raw.size()) break;
      body += raw.substr(eol + 2, size);
      pos = eol + 2 + size + 2;
    }
    return body;
  }

  static std::vector<json> stream_messages(const std::string& body) {
    std::vector<json> out;
    for (const SseEvent& e : sse_events(body)) {
      if (!e.data.empty()) out.push_back(json::parse(e.data));
    }
    return out;
  }

  void trigger(int port, const std::string& tool, json arguments = json::object()) {
    BlockingClient client(port);
    HttpResponse res = post_modern(client, modern_call(99, "tools/call", {{"name", tool}, {"arguments", arguments}}));
    EXPECT_EQ(res.status, 200) << res.body;
  }

  std::string raw_;
};

TEST_F(McpStreamTest, ListenAcknowledgesFirstThenDeliversOnlyTheRequestedChanges) {
  start();
  BlockingClient stream(port());
  send_modern(stream, modern_call("sub-1", "subscriptions/listen", {{"notifications", {{"toolsListChanged", true}}}}));
  read_body_until(stream, "acknowledged");
  trigger(port(), "test_trigger_prompt_change");
  trigger(port(), "test_trigger_tool_change");
  std::vector<json> all = stream_messages(read_body_until(stream, "tools/list_changed"));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["method"], "notifications/subscriptions/acknowledged");
  EXPECT_EQ(all[0]["params"]["notifications"], json({{"toolsListChanged", true}}));
  EXPECT_EQ(all[0]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], "sub-1");
  EXPECT_EQ(all[1]["method"], "notifications/tools/list_changed");
  EXPECT_EQ(all[1]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], "sub-1");
}

TEST_F(McpStreamTest, ListenDeliversUpdatesOfSubscribedResourcesOnly) {
  start();
  BlockingClient stream(port());
  json filter = {{"resourceSubscriptions", {"test://watched-resource"}}};
  send_modern(stream, modern_call(5, "subscriptions/listen", {{"notifications", filter}}));
  read_body_until(stream, "acknowledged");
  trigger(port(), "test_trigger_resource_update", {{"uri", "test://other"}});
  trigger(port(), "test_trigger_resource_update", {{"uri", "test://watched-resource"}});
  std::vector<json> all = stream_messages(read_body_until(stream, "resources/updated"));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1]["params"]["uri"], "test://watched-resource");
}

TEST_F(McpStreamTest, ListenEndsGracefullyWithAResponseAfterTheListenTimeout) {
  TargetOptions options;
  options.mcp_listen_timeout_ms = 60;
  start(options);
  BlockingClient stream(port());
  send_modern(stream, modern_call(8, "subscriptions/listen", {{"notifications", {{"promptsListChanged", true}}}}));
  HttpResponse res = stream.read_response();
  ASSERT_EQ(res.status, 200);
  std::vector<json> all = messages(res);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1]["id"], 8);
  EXPECT_EQ(all[1]["result"]["resultType"], "complete");
  EXPECT_EQ(all[1]["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"], 8);
}

TEST_F(McpStreamTest, AnIdleListenStreamCarriesHeartbeatComments) {
  TargetOptions options;
  options.mcp_heartbeat_ms = 40;
  start(options);
  BlockingClient stream(port());
  send_modern(stream, modern_call(9, "subscriptions/listen", {{"notifications", {{"toolsListChanged", true}}}}));
  EXPECT_NE(read_body_until(stream, ": heartbeat").find(": heartbeat\n\n"), std::string::npos);
}

TEST_F(McpStreamTest, TheSessionGetStreamDeliversListChangesAndSubscribedUpdates) {
  start();
  BlockingClient setup(port());
  std::string session = initialize(setup);
  EXPECT_EQ(post(setup, call(2, "resources/subscribe", {{"uri", "test://watched-resource"}}), session).status, 200);
  BlockingClient stream(port());
  ASSERT_TRUE(stream.send("GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMcp-Session-Id: " +
                          session + "\r\n\r\n"));
  read_body_until(stream, ": stream open");
  trigger(port(), "test_trigger_tool_change");
  trigger(port(), "test_trigger_resource_update", {{"uri", "test://not-subscribed"}});
  trigger(port(), "test_trigger_resource_update", {{"uri", "test://watched-resource"}});
  std::vector<json> all = stream_messages(read_body_until(stream, "resources/updated"));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["method"], "notifications/tools/list_changed");
  EXPECT_EQ(all[1]["params"]["uri"], "test://watched-resource");
}

TEST_F(McpStreamTest, AServerRequestIsAnsweredByASeparatePostWhileItsStreamStaysOpen) {
  start();
  BlockingClient setup(port());
  std::string session = initialize(setup, "2025-06-18", {{"elicitation", json::object()}});
  BlockingClient stream(port());
  send_raw(stream, call(3, "tools/call", {{"name", "test_elicitation"}, {"arguments", {{"message", "Name?"}}}}),
           legacy_headers(session, "2025-06-18"));
  std::vector<json> asked = stream_messages(read_body_until(stream, "elicitation/create"));
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0]["params"]["message"], "Name?");
  json answer = {{"jsonrpc", "2.0"}, {"id", asked[0]["id"]},
                 {"result", {{"action", "accept"}, {"content", {{"response", "Ada"}}}}}};
  EXPECT_EQ(post(setup, answer, session).status, 202);
  std::vector<json> all = stream_messages(read_body_until(stream, "User response"));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1]["id"], 3);
  EXPECT_EQ(all[1]["result"]["content"][0]["text"], R"(User response: action=accept, content={"response":"Ada"})");
}

// With several server threads the answer, the trigger and the resumption usually arrive on another thread than
// the stream waiting for them (SO_REUSEPORT spreads connections): the session table and the change feed carry them.
TEST_F(McpStreamTest, AnswersTriggersAndResumptionsReachStreamsOnOtherServerThreads) {
  TargetOptions options;
  options.threads = 4;
  start(options);
  BlockingClient setup(port());
  std::string session = initialize(setup, "2025-11-25", {{"roots", json::object()}});
  for (int round = 0; round < 6; ++round) {
    raw_.clear();
    BlockingClient stream(port());
    send_raw(stream, call(round, "tools/call", {{"name", "test_list_roots"}}), legacy_headers(session, "2025-11-25"));
    std::vector<json> asked = stream_messages(read_body_until(stream, "roots/list"));
    ASSERT_EQ(asked.size(), 1u);
    BlockingClient answerer(port());
    json answer = {{"jsonrpc", "2.0"}, {"id", asked[0]["id"]}, {"result", {{"roots", json::array()}}}};
    EXPECT_EQ(post(answerer, answer, session, kAcceptBoth, "2025-11-25").status, 202);
    EXPECT_NE(read_body_until(stream, "Found 0 root(s)").find("Found 0 root(s)"), std::string::npos);
  }
  raw_.clear();
  BlockingClient listener(port());
  send_modern(listener, modern_call("x", "subscriptions/listen", {{"notifications", {{"toolsListChanged", true}}}}));
  read_body_until(listener, "acknowledged");
  for (int i = 0; i < 4; ++i) trigger(port(), "test_trigger_tool_change");
  std::string body = read_body_until(listener, "tools/list_changed");
  EXPECT_NE(body.find("tools/list_changed"), std::string::npos);
}

TEST_F(McpStreamTest, AServerRequestNeedsTheClientCapability) {
  start();
  BlockingClient client(port());
  std::string session = initialize(client);
  json res = last_message(post(client, call(4, "tools/call", {{"name", "test_list_roots"}}), session));
  EXPECT_EQ(res["result"]["isError"], true);
}

TEST_F(McpStreamTest, A2025_11_25StreamStartsWithAPrimingEventAndResumesWithLastEventId) {
  TargetOptions options;
  options.mcp_retry_ms = 250;
  start(options);
  BlockingClient client(port());
  std::string session = initialize(client, "2025-11-25");
  json request = call(5, "tools/call", {{"name", "test_reconnection"}, {"_meta", {{"progressToken", "p"}}}});
  HttpResponse first = post(client, request, session, kAcceptBoth, "2025-11-25");
  ASSERT_EQ(first.header("content-type"), "text/event-stream");
  std::vector<SseEvent> events = sse_events(first.body);
  ASSERT_EQ(events.size(), 2u);  // priming + progress; the stream closed before the result
  EXPECT_EQ(events[0].retry, "250");
  EXPECT_EQ(events[0].data, "");
  EXPECT_FALSE(events[0].id.empty());
  EXPECT_EQ(json::parse(events[1].data)["params"]["progress"], 50);
  HttpResponse resumed = client.request("GET", "/mcp",
                                        "Accept: text/event-stream\r\nMcp-Session-Id: " + session +
                                            "\r\nMCP-Protocol-Version: 2025-11-25\r\nLast-Event-ID: " + events[1].id +
                                            "\r\n");
  std::vector<SseEvent> rest = sse_events(resumed.body);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_NE(rest[0].id, events[1].id);
  EXPECT_EQ(rest[0].id.substr(0, rest[0].id.rfind('-')), events[1].id.substr(0, events[1].id.rfind('-')));
  EXPECT_EQ(json::parse(rest[0].data)["params"]["progress"], 100);
  EXPECT_EQ(json::parse(rest[1].data)["id"], 5);
}

TEST_F(McpStreamTest, ResumingAStreamTwiceOrAnUnknownOneOpensAStandaloneStream) {
  start();
  BlockingClient setup(port());
  std::string session = initialize(setup, "2025-11-25");
  BlockingClient stream(port());
  ASSERT_TRUE(stream.send("GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMcp-Session-Id: " +
                          session + "\r\nLast-Event-ID: nosuch-3\r\n\r\n"));
  EXPECT_NE(read_body_until(stream, ": stream open").find(": stream open"), std::string::npos);
}

}  // namespace
}  // namespace luaload::test
