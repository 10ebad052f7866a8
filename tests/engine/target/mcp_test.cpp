// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/target/mcp_fixture.hpp"

namespace luaload::test {
namespace {

using engine::target::McpSseMode;
using engine::target::TargetOptions;
using json = nlohmann::json;

TEST_F(McpTest, InitializeNegotiatesTheClientVersionAndCreatesASession) {
  start();
  BlockingClient client(port());
  HttpResponse res = post(client, call(1, "initialize", {{"protocolVersion", "2025-03-26"}}));
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.header("content-type"), "application/json");
  EXPECT_EQ(res.header("mcp-session-id").size(), 32u);
  json body = json::parse(res.body);
  EXPECT_EQ(body["id"], 1);
  EXPECT_EQ(body["result"]["protocolVersion"], "2025-03-26");
  EXPECT_EQ(body["result"]["serverInfo"]["name"], "luaload-target");
  EXPECT_EQ(body["result"]["capabilities"],
            json::parse(R"({"tools":{"listChanged":true},"resources":{"subscribe":true,"listChanged":true},)"
                        R"("prompts":{"listChanged":true},"logging":{},"completions":{}})"));
}

TEST_F(McpTest, InitializeWithAnUnknownVersionGetsTheLatest) {
  start();
  BlockingClient client(port());
  json body = json::parse(post(client, call(1, "initialize", {{"protocolVersion", "1999-01-01"}})).body);
  EXPECT_EQ(body["result"]["protocolVersion"], "2025-11-25");
}

TEST_F(McpTest, RequestWithoutSessionIs400AndWithUnknownSessionIs404) {
  start();
  BlockingClient client(port());
  EXPECT_EQ(post(client, call(2, "tools/list")).status, 400);
  EXPECT_EQ(post(client, call(2, "tools/list"), "no-such-session").status, 404);
}

TEST_F(McpTest, ToolsListDescribesThreeToolsWithSchemas) {
  start();
  BlockingClient client(port());
  std::string session = initialize(client);
  json body = json::parse(post(client, call(2, "tools/list"), session).body);
  const json& tools = body["result"]["tools"];
  ASSERT_EQ(tools.size(), 3u);
  EXPECT_EQ(tools[0]["name"], "echo");
  EXPECT_EQ(tools[1]["name"], "add");
  EXPECT_EQ(tools[2]["name"], "slow");
  EXPECT_EQ(tools[1]["inputSchema"]["required"], json::array({"a", "b"}));
}

TEST_F(McpTest, EchoAndAddToolsReturnTheirResults) {
  start();
  BlockingClient client(port());
  std::string session = initialize(client);
  json echo = json::parse(
      post(client, call(3, "tools/call", {{"name", "echo"}, {"arguments", {{"text", "hi"}}}}), session).body);
  EXPECT_EQ(echo["result"]["content"][0]["text"], "hi");
  json add = json::parse(
      post(client, call(4, "tools/call", {{"name", "add"}, {"arguments", {{"a", 2}, {"b", 40}}}}), session).body);
  EXPECT_EQ(add["result"]["content"][0]["text"], "42");
  EXPECT_EQ(add["result"]["structuredContent"]["sum"], 42);
}

TEST_F(McpTest, AddWithNonNumbersIsAToolErrorNotAProtocolError) {
  start();
  BlockingClient client(port());
  std::string session = initialize(client);
  json res = json::parse(
      post(client, call(5, "tools/call", {{"name", "add"}, {"arguments", {{"a", "x"}, {"b", 1}}}}), session).body);
  EXPECT_FALSE(res.contains("error"));
  EXPECT_EQ(res["result"]["isError"], true);
}

TEST_F(McpTest, UnknownToolIsInvalidParamsAndUnknownMethodIsMethodNotFound) {
  start();
  BlockingClient client(port());
  std::string session = initialize(client);
  json tool = json::parse(post(client, call(6, "tools/call", {{"name", "nope"}}), session).body);
  EXPECT_EQ(tool["error"]["code"], -32602);
  json method = json::parse(post(client, call(7, "sing"), session).body);
  EXPECT_EQ(method["error"]["code"], -32601);
}

TEST_F(McpTest, MalformedJsonIsAParseError) {
  start();
  BlockingClient client(port());
  HttpResponse res = client.request("POST", "/mcp", std::string(kAcceptBoth) + kJsonBody, "{not json");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(json::parse(res.body)["error"]["code"], -32700);
}

TEST_F(McpTest, ResourcesAndPromptsCanBeListedAndRead) {
  start();
  BlockingClient client(port());
  std::string session = initialize(client);
  json list = json::parse(post(client, call(8, "resources/list"), session).body);
  EXPECT_EQ(list["result"]["resources"].size(), 2u);
  json read = json::parse(post(client, call(9, "resources/read", {{"uri", "luaload://readme"}}), session).body);
  EXPECT_EQ(read["result"]["contents"][0]["mimeType"], "text/plain");
  json missing = json::parse(post(client, call(10, "resources/read", {{"uri", "luaload://x"}}), session).body);
  EXPECT_EQ(missing["error"]["code"], -32002);
  json prompt = json::parse(
      post(client, call(11, "prompts/get", {{"name", "greet"}, {"arguments", {{"name", "Ada"}}}}), session).body);
  EXPECT_EQ(prompt["result"]["messages"][0]["content"]["text"], "Say hello to Ada.");
  EXPECT_EQ(json::parse(post(client, call(12, "prompts/list"), session).body)["result"]["prompts"].size(), 1u);
}

TEST_F(McpTest, PingAnswersWithAnEmptyResult) {
  start();
  BlockingClient client(port());
  std::string session = initialize(client);
  json res = json::parse(post(client, call(13, "ping"), session).body);
  EXPECT_EQ(res["result"], json::object());
}

TEST_F(McpTest, SlowToolStreamsProgressOverSseWhenBothAreAccepted) {
  start();
  BlockingClient client(port());
  std::string session = initialize(client);
  HttpResponse res = post(client,
                          call(14, "tools/call",
                               {{"name", "slow"}, {"arguments", {{"delay_ms", 40}}}, {"_meta", {{"progressToken", "p1"}}}}),
                          session);
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.header("content-type"), "text/event-stream");
  size_t progress = 0;
  for (size_t pos = 0; (pos = res.body.find("notifications/progress", pos)) != std::string::npos; ++pos) ++progress;
  EXPECT_EQ(progress, 4u);
  EXPECT_EQ(res.body.rfind("event: message\ndata: ", 0), 0u);
  EXPECT_EQ(last_message(res)["result"]["content"][0]["text"], "waited 40 ms");
}

TEST_F(McpTest, SlowToolAnswersJsonWhenTheClientOnlyAcceptsJson) {
  start();
  BlockingClient client(port());
  std::string session = initialize(client);
  HttpResponse res = post(client, call(15, "tools/call", {{"name", "slow"}, {"arguments", {{"delay_ms", 20}}}}),
                          session, "Accept: application/json\r\n");
  EXPECT_EQ(res.header("content-type"), "application/json");
  EXPECT_EQ(json::parse(res.body)["result"]["content"][0]["text"], "waited 20 ms");
}

TEST_F(McpTest, SseAlwaysModeStreamsEveryAnswer) {
  TargetOptions options;
  options.mcp_sse = McpSseMode::Always;
  start(options);
  BlockingClient client(port());
  std::string session = initialize(client);
  HttpResponse res = post(client, call(16, "ping"), session);
  EXPECT_EQ(res.header("content-type"), "text/event-stream");
  EXPECT_EQ(last_message(res)["id"], 16);
}

TEST_F(McpTest, DeleteEndsTheSessionAndLaterRequestsGet404) {
  start();
  BlockingClient client(port());
  std::string session = initialize(client);
  HttpResponse del = client.request("DELETE", "/mcp", "Mcp-Session-Id: " + session + "\r\n");
  EXPECT_EQ(del.status, 204);
  EXPECT_EQ(post(client, call(17, "ping"), session).status, 404);
  EXPECT_EQ(client.request("DELETE", "/mcp", "Mcp-Session-Id: " + session + "\r\n").status, 404);
}

TEST_F(McpTest, GetOpensAStreamWithHeartbeatsThatEndsWithTheSession) {
  TargetOptions options;
  options.mcp_heartbeat_ms = 20;
  start(options);
  BlockingClient setup(port());
  std::string session = initialize(setup);
  BlockingClient stream(port());
  ASSERT_TRUE(stream.send("GET /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nMcp-Session-Id: " + session +
                          "\r\n\r\n"));
  std::string seen = stream.read_until(": heartbeat\n\n");
  EXPECT_EQ(seen.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(seen.find(": heartbeat\n\n"), std::string::npos);
  EXPECT_EQ(setup.request("DELETE", "/mcp", "Mcp-Session-Id: " + session + "\r\n").status, 204);
  // The next heartbeat notices the session is gone and ends the chunked stream.
  EXPECT_NE(stream.read_until("0\r\n\r\n").find("0\r\n\r\n"), std::string::npos);
}

TEST_F(McpTest, UnsupportedProtocolVersionHeaderIs400) {
  start();
  BlockingClient client(port());
  std::string session = initialize(client);
  HttpResponse res = client.request("POST", "/mcp",
                                    std::string(kAcceptBoth) + kJsonBody + "Mcp-Session-Id: " + session +
                                        "\r\nMCP-Protocol-Version: 1999-01-01\r\n",
                                    call(18, "ping").dump());
  EXPECT_EQ(res.status, 400);
}

TEST_F(McpTest, LegacyLogMessagesFollowTheSessionsLogLevel) {
  start();
  BlockingClient client(port());
  std::string session = initialize(client);
  json logging = call(20, "tools/call", {{"name", "test_tool_with_logging"}});
  EXPECT_EQ(messages(post(client, logging, session)).size(), 4u);  // sessions start at info
  EXPECT_EQ(json::parse(post(client, call(21, "logging/setLevel", {{"level", "error"}}), session).body)["result"],
            json::object());
  EXPECT_EQ(messages(post(client, logging, session)).size(), 1u);
  EXPECT_EQ(json::parse(post(client, call(22, "logging/setLevel", {{"level", "loud"}}), session).body)["error"]["code"],
            -32602);
}

TEST_F(McpTest, LegacyResourceNotFoundKeepsTheLegacyCode) {
  start();
  BlockingClient client(port());
  std::string session = initialize(client);
  json missing = json::parse(post(client, call(23, "resources/read", {{"uri", "test://none"}}), session).body);
  EXPECT_EQ(missing["error"]["code"], -32002);
  EXPECT_EQ(missing["error"]["data"]["uri"], "test://none");
}

}  // namespace
}  // namespace luaload::test
