// SPDX-License-Identifier: MIT
// The transport-independent MCP method layer (mcp_methods.hpp, mcp_exchange.hpp) driven through a scripted Sink:
// what the stdio transport builds on. No sockets, no loop: the test runs the sink's timer by hand.
#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>

#include "engine/target/mcp_exchange.hpp"
#include "engine/target/mcp_methods.hpp"

namespace luaload::test {
namespace {

namespace mcp = engine::target::mcp;
using json = nlohmann::json;

// Records everything a run writes; after() and await_answer() park their callbacks for the test to fire.
class RecordingSink : public mcp::Sink {
 public:
  void send(const json& message) override { sent.push_back(message); }
  void respond(const json& response, int status) override {
    final_response = response;
    http_status = status;
    ended = true;
  }
  void finish() override { ended = true; }
  void after(uint64_t delay_ms, std::function<void()> fn) override {
    delays.push_back(delay_ms);
    pending = std::move(fn);
  }
  json next_request_id() override { return "srv-" + std::to_string(++ids); }
  void await_answer(const json& id, std::function<void(const json&)> fn) override {
    awaited = id;
    answer = std::move(fn);
  }
  // Runs the pending timer callback; false when there is none.
  bool tick() {
    if (!pending) return false;
    auto fn = std::move(pending);
    pending = nullptr;
    fn();
    return true;
  }

  std::vector<json> sent;
  std::vector<uint64_t> delays;
  json final_response;
  int http_status = 0;
  bool ended = false;
  std::function<void()> pending;
  json awaited;
  std::function<void(const json&)> answer;
  int ids = 0;
};

json request(const json& id, const std::string& method, json params = json::object()) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

mcp::Context legacy_context(json capabilities = json::object()) {
  mcp::Server server;
  mcp::Context ctx;
  json init = request(1, "initialize", {{"protocolVersion", "2025-11-25"}, {"capabilities", std::move(capabilities)}});
  mcp::initialize(server, init, &ctx);
  return ctx;
}

TEST(McpMethodsTest, InitializeNegotiatesALegacyRevisionAndKeepsTheCapabilities) {
  mcp::Server server;
  mcp::Context ctx;
  mcp::Reply reply = mcp::initialize(server, request(1, "initialize", {{"protocolVersion", "2025-03-26"},
                                                                        {"capabilities", {{"roots", json::object()}}}}),
                                     &ctx);
  EXPECT_EQ(reply.response["result"]["protocolVersion"], "2025-03-26");
  EXPECT_EQ(ctx.era, mcp::Era::Legacy);
  EXPECT_TRUE(ctx.declares("roots"));
  mcp::Reply newer = mcp::initialize(server, request(2, "initialize", {{"protocolVersion", "2026-07-28"}}), &ctx);
  EXPECT_EQ(newer.response["result"]["protocolVersion"], "2025-11-25");
}

TEST(McpMethodsTest, OpenModernReadsTheEnvelopeOrExplainsWhatIsWrong) {
  mcp::Context ctx;
  json ok = request(1, "tools/list", {{"_meta", {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                                                  {"io.modelcontextprotocol/clientCapabilities", {{"sampling", json::object()}}},
                                                  {"io.modelcontextprotocol/logLevel", "debug"}}}});
  EXPECT_FALSE(mcp::open_modern(ok, &ctx).has_value());
  EXPECT_EQ(ctx.era, mcp::Era::Modern);
  EXPECT_EQ(ctx.log_level, "debug");
  EXPECT_TRUE(ctx.declares("sampling"));
  auto missing = mcp::open_modern(request(2, "tools/list"), &ctx);
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->http_status, 400);
  EXPECT_EQ(missing->response["error"]["code"], -32602);
}

TEST(McpMethodsTest, AStepwiseReplySendsNotificationsBetweenWaitsThenResponds) {
  mcp::Server server;
  auto sink = std::make_shared<RecordingSink>();
  mcp::Context ctx = legacy_context();
  json call = request(3, "tools/call", {{"name", "slow"}, {"arguments", {{"delay_ms", 40}}}, {"_meta", {{"progressToken", 7}}}});
  mcp::run(server, sink, mcp::handle_request(server, call, ctx));
  EXPECT_EQ(sink->sent.size(), 1u);
  while (sink->tick()) {
  }
  EXPECT_EQ(sink->sent.size(), 4u);
  EXPECT_EQ(sink->delays, (std::vector<uint64_t>{10, 10, 10, 10}));
  EXPECT_EQ(sink->final_response["result"]["content"][0]["text"], "waited 40 ms");
}

TEST(McpMethodsTest, ALegacyServerRequestWaitsForTheAnswerThenFinishes) {
  mcp::Server server;
  auto sink = std::make_shared<RecordingSink>();
  mcp::Context ctx = legacy_context({{"roots", json::object()}});
  mcp::run(server, sink, mcp::handle_request(server, request(4, "tools/call", {{"name", "test_list_roots"}}), ctx));
  ASSERT_EQ(sink->sent.size(), 1u);
  EXPECT_EQ(sink->sent[0]["method"], "roots/list");
  EXPECT_EQ(sink->sent[0]["id"], "srv-1");
  EXPECT_FALSE(sink->ended);
  // Moved out before the call, as a transport drops a callback once it ran: it holds the run, which holds the sink.
  auto answer = std::move(sink->answer);
  answer({{"jsonrpc", "2.0"}, {"id", "srv-1"}, {"result", {{"roots", json::array({{{"uri", "file:///a"}}})}}}});
  EXPECT_TRUE(sink->ended);
  EXPECT_EQ(sink->final_response["result"]["content"][0]["text"], "Found 1 root(s)");
}

TEST(McpMethodsTest, ASuspendTheTransportDeclinesJustContinues) {
  mcp::Server server;
  auto sink = std::make_shared<RecordingSink>();
  mcp::run(server, sink, mcp::handle_request(server, request(5, "tools/call", {{"name", "test_reconnection"}}),
                                             legacy_context()));
  while (sink->tick()) {
  }
  EXPECT_TRUE(sink->ended);
  EXPECT_EQ(sink->final_response["id"], 5);
}

TEST(McpMethodsTest, AListenDeliversPublishedChangesAndEndsAfterTheListenTimeout) {
  mcp::Server server;
  server.listen_timeout_ms = 100;
  auto sink = std::make_shared<RecordingSink>();
  mcp::Context ctx;
  json listen = request("L", "subscriptions/listen",
                        {{"_meta", {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                                    {"io.modelcontextprotocol/clientCapabilities", json::object()}}},
                         {"notifications", {{"resourcesListChanged", true}}}});
  ASSERT_FALSE(mcp::open_modern(listen, &ctx).has_value());
  server.changes.publish(mcp::ChangeEvent::Kind::ResourcesListChanged);  // before the listen: not delivered
  mcp::run(server, sink, mcp::handle_request(server, listen, ctx));
  server.changes.publish(mcp::ChangeEvent::Kind::ToolsListChanged);
  server.changes.publish(mcp::ChangeEvent::Kind::ResourcesListChanged);
  ASSERT_TRUE(sink->tick());
  ASSERT_EQ(sink->sent.size(), 2u);
  EXPECT_EQ(sink->sent[1]["method"], "notifications/resources/list_changed");
  EXPECT_EQ(sink->sent[1]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], "L");
  while (sink->tick()) {
  }
  EXPECT_EQ(sink->final_response["result"]["resultType"], "complete");
  EXPECT_EQ(sink->final_response["id"], "L");
}

TEST(McpMethodsTest, LegacySessionEffectsAreReturnedForTheTransportToKeep) {
  mcp::Server server;
  mcp::Context ctx = legacy_context();
  mcp::Reply level = mcp::handle_request(server, request(6, "logging/setLevel", {{"level", "warning"}}), ctx);
  EXPECT_EQ(level.set_log_level, "warning");
  mcp::Reply sub = mcp::handle_request(server, request(7, "resources/subscribe", {{"uri", "test://x"}}), ctx);
  ASSERT_EQ(sub.subscription_changes.size(), 1u);
  EXPECT_EQ(sub.subscription_changes[0], (std::pair<std::string, bool>{"test://x", true}));
  mcp::ChangeEvent update{mcp::ChangeEvent::Kind::ResourceUpdated, "test://x", 1};
  EXPECT_TRUE(mcp::legacy_change_notification(update, false).is_null());
  EXPECT_EQ(mcp::legacy_change_notification(update, true)["params"]["uri"], "test://x");
}

TEST(McpMethodsTest, TheChangeFeedHandsEachListenerOnlyWhatCameAfterItsCursor) {
  mcp::ChangeFeed feed;
  uint64_t start = feed.latest();
  feed.publish(mcp::ChangeEvent::Kind::ToolsListChanged);
  feed.publish(mcp::ChangeEvent::Kind::ResourceUpdated, "u");
  std::vector<mcp::ChangeEvent> events;
  uint64_t seen = feed.since(start, &events);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].uri, "u");
  events.clear();
  EXPECT_EQ(feed.since(seen, &events), seen);
  EXPECT_TRUE(events.empty());
}

}  // namespace
}  // namespace luaload::test
