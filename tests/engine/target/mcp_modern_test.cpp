// SPDX-License-Identifier: MIT
// /mcp in the modern era (2026-07-28): the _meta envelope, request metadata headers, server/discover, the result
// envelope, MRTR, subscriptions/listen, and the era options.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/target/mcp_fixture.hpp"

namespace luaload::test {
namespace {

using engine::target::McpEra;
using engine::target::TargetOptions;
using json = nlohmann::json;

const json kAllCapabilities = {{"sampling", json::object()}, {"elicitation", json::object()}, {"roots", json::object()}};

TEST_F(McpTest, ModernDiscoverNamesTheModernRevisionCapabilitiesAndServerInfo) {
  start();
  BlockingClient client(port());
  HttpResponse res = post_modern(client, modern_call(1, "server/discover"));
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.header("mcp-session-id"), "");
  json result = json::parse(res.body)["result"];
  EXPECT_EQ(result["supportedVersions"], json::array({kModern}));
  EXPECT_EQ(result["capabilities"]["tools"]["listChanged"], true);
  EXPECT_EQ(result["resultType"], "complete");
  EXPECT_EQ(result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "luaload-target");
  EXPECT_EQ(result["ttlMs"], 300000);
  EXPECT_EQ(result["cacheScope"], "public");
}

TEST_F(McpTest, ModernResultsCarryResultTypeAndOnlyCacheableOnesCarryCachingHints) {
  TargetOptions options;
  options.mcp_cache_ttl_ms = 1234;
  start(options);
  BlockingClient client(port());
  json list = json::parse(post_modern(client, modern_call(1, "tools/list")).body)["result"];
  EXPECT_EQ(list["ttlMs"], 1234);
  EXPECT_EQ(list["tools"].size(), 3u);
  json read = json::parse(post_modern(client, modern_call(2, "resources/read", {{"uri", "luaload://readme"}})).body);
  EXPECT_EQ(read["result"]["cacheScope"], "private");
  json echo = json::parse(post_modern(client, modern_call(3, "tools/call", {{"name", "echo"},
                                                                             {"arguments", {{"text", "hi"}}}})).body);
  EXPECT_EQ(echo["result"]["content"][0]["text"], "hi");
  EXPECT_EQ(echo["result"]["resultType"], "complete");
  EXPECT_FALSE(echo["result"].contains("ttlMs"));
  EXPECT_EQ(echo["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["version"], "0.2.0");
}

TEST_F(McpTest, ModernRequestWithoutRequiredMetaFieldsIs400InvalidParams) {
  start();
  BlockingClient client(port());
  json no_meta = call(7, "tools/list");
  HttpResponse res = post_modern(client, no_meta);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(json::parse(res.body)["error"]["code"], -32602);
  EXPECT_EQ(json::parse(res.body)["id"], 7);
  json no_caps = modern_call(8, "tools/list");
  no_caps["params"]["_meta"].erase("io.modelcontextprotocol/clientCapabilities");
  EXPECT_EQ(json::parse(post_modern(client, no_caps).body)["error"]["code"], -32602);
  json no_info = modern_call(9, "tools/list");
  no_info["params"]["_meta"].erase("io.modelcontextprotocol/clientInfo");
  EXPECT_EQ(post_modern(client, no_info).status, 200);
}

TEST_F(McpTest, ModernUnsupportedVersionIs400WithTheSupportedList) {
  start();
  BlockingClient client(port());
  json message = modern_call(3, "server/discover");
  message["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = "2099-01-01";
  HttpResponse res = client.request("POST", "/mcp",
                                    std::string(kAcceptBoth) + kJsonBody +
                                        "MCP-Protocol-Version: 2099-01-01\r\nMcp-Method: server/discover\r\n",
                                    message.dump());
  EXPECT_EQ(res.status, 400);
  json error = json::parse(res.body)["error"];
  EXPECT_EQ(error["code"], -32022);
  EXPECT_EQ(error["data"]["supported"], json::array({kModern}));
  EXPECT_EQ(error["data"]["requested"], "2099-01-01");
}

TEST_F(McpTest, ModernHeadersThatDisagreeWithTheBodyAre400HeaderMismatch) {
  start();
  BlockingClient client(port());
  json echo = modern_call(4, "tools/call", {{"name", "echo"}, {"arguments", {{"text", "x"}}}});
  std::string body_only = std::string(kAcceptBoth) + kJsonBody;
  struct Case {
    const char* why;
    std::string headers;
  } cases[] = {
      {"no version header", body_only + "Mcp-Method: tools/call\r\nMcp-Name: echo\r\n"},
      {"version mismatch", body_only + "MCP-Protocol-Version: 2025-11-25\r\nMcp-Method: tools/call\r\nMcp-Name: echo\r\n"},
      {"no method header", body_only + "MCP-Protocol-Version: 2026-07-28\r\nMcp-Name: echo\r\n"},
      {"method mismatch", body_only + "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/list\r\nMcp-Name: echo\r\n"},
      {"no name header", body_only + "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\n"},
      {"name mismatch", body_only + "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: add\r\n"},
  };
  for (const Case& c : cases) {
    HttpResponse res = client.request("POST", "/mcp", c.headers, echo.dump());
    EXPECT_EQ(res.status, 400) << c.why;
    EXPECT_EQ(json::parse(res.body)["error"]["code"], -32020) << c.why;
  }
}

TEST_F(McpTest, ModernMcpNameAcceptsTheBase64SentinelAndSurroundingWhitespace) {
  start();
  BlockingClient client(port());
  json echo = modern_call(5, "tools/call", {{"name", "echo"}, {"arguments", {{"text", "x"}}}});
  std::string headers = std::string(kAcceptBoth) + kJsonBody + "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\n";
  EXPECT_EQ(client.request("POST", "/mcp", headers + "Mcp-Name: =?base64?ZWNobw==?=\r\n", echo.dump()).status, 200);
  EXPECT_EQ(client.request("POST", "/mcp", headers + "Mcp-Name:   echo  \r\n", echo.dump()).status, 200);
  EXPECT_EQ(client.request("POST", "/mcp", headers + "Mcp-Name: =?base64?ZWNobw?=\r\n", echo.dump()).status, 400);
}

TEST_F(McpTest, ModernXMcpHeaderParametersMustBeMirroredIntoMcpParamHeaders) {
  start();
  BlockingClient client(port());
  json message = modern_call(6, "tools/call", {{"name", "test_custom_header"},
                                               {"arguments", {{"region", "eu-west1"}, {"priority", 7}}}});
  EXPECT_EQ(post_modern(client, message, "Mcp-Param-Region: eu-west1\r\nMcp-Param-Priority: 7.0\r\n").status, 200);
  EXPECT_EQ(post_modern(client, message, "Mcp-Param-Region: =?base64?ZXUtd2VzdDE=?=\r\nMcp-Param-Priority: 7\r\n").status,
            200);
  HttpResponse missing = post_modern(client, message, "Mcp-Param-Region: eu-west1\r\n");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(json::parse(missing.body)["error"]["code"], -32020);
  EXPECT_EQ(post_modern(client, message, "Mcp-Param-Region: us-east1\r\nMcp-Param-Priority: 7\r\n").status, 400);
}

TEST_F(McpTest, ModernUnknownAndRemovedMethodsAre404MethodNotFound) {
  start();
  BlockingClient client(port());
  for (const char* method : {"initialize", "ping", "logging/setLevel", "resources/subscribe", "no/such"}) {
    HttpResponse res = post_modern(client, modern_call(9, method));
    EXPECT_EQ(res.status, 404) << method;
    EXPECT_EQ(json::parse(res.body)["error"]["code"], -32601) << method;
  }
}

TEST_F(McpTest, ModernProgressArrivesOnTheSseResponseBeforeTheResult) {
  start();
  BlockingClient client(port());
  json message = modern_call(10, "tools/call", {{"name", "slow"}, {"arguments", {{"delay_ms", 20}}},
                                                {"_meta", {{"progressToken", "tok"}}}});
  message["params"]["_meta"]["progressToken"] = "tok";
  HttpResponse res = post_modern(client, message);
  ASSERT_EQ(res.header("content-type"), "text/event-stream");
  std::vector<json> all = messages(res);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0]["method"], "notifications/progress");
  EXPECT_EQ(all[0]["params"]["progressToken"], "tok");
  EXPECT_EQ(all[4]["result"]["resultType"], "complete");
  EXPECT_EQ(res.body.find("id: "), std::string::npos);  // modern streams are not resumable: no event ids
}

TEST_F(McpTest, ModernLogMessagesAreSentOnlyWhenTheRequestSetsALogLevel) {
  start();
  BlockingClient client(port());
  json quiet = modern_call(11, "tools/call", {{"name", "test_tool_with_logging"}});
  EXPECT_EQ(messages(post_modern(client, quiet)).size(), 1u);
  json chatty = modern_call(12, "tools/call", {{"name", "test_tool_with_logging"}}, json::object(), "info");
  std::vector<json> all = messages(post_modern(client, chatty));
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0]["method"], "notifications/message");
  json errors_only = modern_call(13, "tools/call", {{"name", "test_tool_with_logging"}}, json::object(), "error");
  EXPECT_EQ(messages(post_modern(client, errors_only)).size(), 1u);
}

TEST_F(McpTest, ModernInputRequiredRoundTripsThroughASignedRequestState) {
  start();
  BlockingClient client(port());
  json first = modern_call(14, "tools/call", {{"name", "test_input_required_result_multi_round"}}, kAllCapabilities);
  json r1 = json::parse(post_modern(client, first).body)["result"];
  ASSERT_EQ(r1["resultType"], "input_required");
  EXPECT_FALSE(r1.contains("ttlMs"));
  EXPECT_EQ(r1["inputRequests"]["step1"]["method"], "elicitation/create");
  json retry = modern_call(15, "tools/call",
                           {{"name", "test_input_required_result_multi_round"},
                            {"inputResponses", {{"step1", {{"action", "accept"}, {"content", {{"name", "Ada"}}}}}}},
                            {"requestState", r1["requestState"]}},
                           kAllCapabilities);
  json r2 = json::parse(post_modern(client, retry).body)["result"];
  ASSERT_EQ(r2["resultType"], "input_required");
  EXPECT_NE(r2["requestState"], r1["requestState"]);
  json last = modern_call(16, "tools/call",
                          {{"name", "test_input_required_result_multi_round"},
                           {"inputResponses", {{"step2", {{"action", "accept"}, {"content", {{"color", "red"}}}}}}},
                           {"requestState", r2["requestState"]}},
                          kAllCapabilities);
  json r3 = json::parse(post_modern(client, last).body)["result"];
  EXPECT_EQ(r3["content"][0]["text"], "Multi-round complete for Ada who likes red");
}

TEST_F(McpTest, ModernTamperedRequestStateIsRejected) {
  start();
  BlockingClient client(port());
  json first = modern_call(17, "tools/call", {{"name", "test_input_required_result_tampered_state"}}, kAllCapabilities);
  std::string state = json::parse(post_modern(client, first).body)["result"]["requestState"];
  std::string tampered = state;
  tampered[2] = tampered[2] == 'A' ? 'B' : 'A';
  for (const std::string& bad : {tampered, state + "x", std::string("not-a-state")}) {
    json retry = modern_call(18, "tools/call",
                             {{"name", "test_input_required_result_tampered_state"},
                              {"inputResponses", {{"confirm", {{"action", "accept"}, {"content", {{"ok", true}}}}}}},
                              {"requestState", bad}},
                             kAllCapabilities);
    EXPECT_EQ(json::parse(post_modern(client, retry).body)["error"]["code"], -32602) << bad;
  }
}

TEST_F(McpTest, ModernToolsThatNeedTheClientAskForInputAndCheckCapabilities) {
  start();
  BlockingClient client(port());
  json ask = modern_call(19, "tools/call", {{"name", "test_sampling"}, {"arguments", {{"prompt", "hi"}}}}, kAllCapabilities);
  json r1 = json::parse(post_modern(client, ask).body)["result"];
  ASSERT_EQ(r1["resultType"], "input_required");
  EXPECT_EQ(r1["inputRequests"]["sampling"]["method"], "sampling/createMessage");
  json answer = {{"role", "assistant"}, {"content", {{"type", "text"}, {"text", "Paris"}}}, {"model", "m"}};
  json retry = modern_call(20, "tools/call", {{"name", "test_sampling"}, {"inputResponses", {{"sampling", answer}}}},
                           kAllCapabilities);
  EXPECT_EQ(json::parse(post_modern(client, retry).body)["result"]["content"][0]["text"], "LLM response: Paris");
  HttpResponse refused = post_modern(client, modern_call(21, "tools/call", {{"name", "test_sampling"}}));
  EXPECT_EQ(refused.status, 400);
  json error = json::parse(refused.body)["error"];
  EXPECT_EQ(error["code"], -32021);
  EXPECT_EQ(error["data"]["requiredCapabilities"], json({{"sampling", json::object()}}));
}

TEST_F(McpTest, ModernOnlyRefusesLegacyClientsLikeTheTypeScriptSdk) {
  TargetOptions options;
  options.mcp_era = McpEra::Modern;
  start(options);
  BlockingClient client(port());
  HttpResponse init = post(client, call(1, "initialize", {{"protocolVersion", "2025-11-25"}}));
  EXPECT_EQ(init.status, 400);
  json error = json::parse(init.body)["error"];
  EXPECT_EQ(error["code"], -32022);
  EXPECT_EQ(error["message"], "Unsupported protocol version: 2025-11-25");
  EXPECT_EQ(error["data"]["supported"], json::array({kModern}));
  EXPECT_EQ(client.request("GET", "/mcp", "Accept: text/event-stream\r\n").status, 405);
  EXPECT_EQ(client.request("DELETE", "/mcp", "Mcp-Session-Id: x\r\n").status, 405);
  EXPECT_EQ(post_modern(client, modern_call(2, "tools/list")).status, 200);
}

TEST_F(McpTest, LegacyOnlyAnswersAModernRequestAsA2025ServerDoes) {
  TargetOptions options;
  options.mcp_era = McpEra::Legacy;
  start(options);
  BlockingClient client(port());
  HttpResponse res = post_modern(client, modern_call(1, "tools/list"));
  EXPECT_EQ(res.status, 400);
  json error = json::parse(res.body)["error"];
  EXPECT_EQ(error["code"], -32000);  // no session: not a modern error, so a dual-era client falls back
  EXPECT_FALSE(initialize(client).empty());
}

TEST_F(McpTest, BothErasAreServedSideBySide) {
  start();
  BlockingClient client(port());
  std::string session = initialize(client);
  EXPECT_EQ(json::parse(post(client, call(2, "ping"), session).body)["result"], json::object());
  EXPECT_EQ(json::parse(post_modern(client, modern_call(3, "tools/list")).body)["result"]["resultType"], "complete");
  EXPECT_FALSE(json::parse(post(client, call(4, "tools/list"), session).body)["result"].contains("resultType"));
}

TEST_F(McpTest, FixturesAreCallableButListedOnlyWithTheFixturesOption) {
  start();
  BlockingClient client(port());
  json simple = modern_call(1, "tools/call", {{"name", "test_simple_text"}});
  EXPECT_EQ(json::parse(post_modern(client, simple).body)["result"]["content"][0]["type"], "text");
  server_->stop();
  TargetOptions options;
  options.mcp_fixtures = true;
  start(options);
  BlockingClient listed(port());
  json tools = json::parse(post_modern(listed, modern_call(2, "tools/list")).body)["result"]["tools"];
  EXPECT_GT(tools.size(), 20u);
  EXPECT_EQ(tools[0]["name"], "echo");
}

TEST_F(McpTest, NonLoopbackHostOrOriginIs403OnALoopbackListener) {
  start();
  BlockingClient client(port());
  std::string headers = modern_headers(modern_call(1, "server/discover"));
  std::string body = modern_call(1, "server/discover").dump();
  EXPECT_EQ(client.request("POST", "/mcp", headers + "Origin: http://evil.example\r\n", body).status, 403);
  EXPECT_EQ(client.request("POST", "/mcp", headers + "Origin: http://localhost:3000\r\n", body).status, 200);
  BlockingClient rebinding(port());
  std::string raw = "POST /mcp HTTP/1.1\r\nHost: evil.example\r\n" + headers + "Content-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_TRUE(rebinding.send(raw));
  EXPECT_EQ(rebinding.read_response().status, 403);
}

}  // namespace
}  // namespace luaload::test
