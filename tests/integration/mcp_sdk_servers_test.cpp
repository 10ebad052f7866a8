// SPDX-License-Identifier: MIT
// The Node test servers themselves (support/node_server, tests/node/servers), checked with the naive blocking
// client: each SDK mode answers the eras it is meant to, and the OAuth launcher is as strict as it says. The
// luaload tests against them (mcp_sdk_test.cpp) rely on exactly these behaviours.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "support/blocking_http.hpp"
#include "support/node_server.hpp"

namespace luaload::test {
namespace {

constexpr std::string_view kModernMeta =
    R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",)"
    R"("io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"},"io.modelcontextprotocol/clientCapabilities":{}})";
constexpr std::string_view kInitialize =
    R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25",)"
    R"("clientInfo":{"name":"t","version":"1"},"capabilities":{}}})";

uint16_t port_of(const std::string& url) {
  const size_t colon = url.rfind(':');
  return static_cast<uint16_t>(std::stoi(url.substr(colon + 1)));
}

std::string path_of(const std::string& url) {
  const size_t slash = url.find('/', url.find("//") + 2);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

std::string post(const std::string& url, std::string_view content_type, std::string_view body,
                 std::string_view extra_headers = "") {
  std::string request = "POST " + path_of(url) + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  request += "Accept: application/json, text/event-stream\r\nContent-Type: " + std::string(content_type) + "\r\n";
  request += std::string(extra_headers) + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  request += body;
  return blocking_exchange(port_of(url), request);
}

std::string post_json(const std::string& url, std::string_view body, std::string_view extra_headers = "") {
  return post(url, "application/json", body, extra_headers);
}

std::string modern_tools_list() {
  return R"({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{)" + std::string(kModernMeta) + "}}";
}

constexpr std::string_view kModernHeaders = "MCP-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/list\r\n";

class NodeMcpServerTest : public ::testing::Test {
 protected:
  void start(std::string_view mode) {
    std::string error;
    ASSERT_TRUE(server_.start(mode, &error)) << error;
  }
  NodeMcpServer server_;
};

TEST_F(NodeMcpServerTest, TheModernServerRejectsA2025Initialize) {
  start("modern");
  const std::string answer = post_json(server_.url(), kInitialize);
  EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << answer;
  EXPECT_NE(answer.find("Unsupported protocol version: 2025-11-25"), std::string::npos) << answer;
}

TEST_F(NodeMcpServerTest, TheModernServerAnswersAnEnvelopedRequest) {
  start("modern");
  const std::string answer = post_json(server_.url(), modern_tools_list(), kModernHeaders);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  for (const char* tool : {"\"echo\"", "\"add\"", "\"slow\"", "\"confirm\"", "\"roots\""}) {
    EXPECT_NE(answer.find(tool), std::string::npos) << tool << " in " << answer;
  }
}

TEST_F(NodeMcpServerTest, TheLegacyServerOpensASessionAndRefusesAModernRequest) {
  start("legacy");
  const std::string opened = post_json(server_.url(), kInitialize);
  EXPECT_EQ(opened.rfind("HTTP/1.1 200", 0), 0u) << opened;
  EXPECT_NE(opened.find("mcp-session-id: "), std::string::npos) << opened;
  EXPECT_NE(opened.find("\"protocolVersion\":\"2025-11-25\""), std::string::npos) << opened;
  const std::string modern = post_json(server_.url(), modern_tools_list(), kModernHeaders);
  EXPECT_EQ(modern.rfind("HTTP/1.1 400", 0), 0u) << modern;
  EXPECT_NE(modern.find("Session ID required"), std::string::npos) << modern;
}

TEST_F(NodeMcpServerTest, TheDualServerServesBothEras) {
  start("dual");
  const std::string legacy = post_json(server_.url(), kInitialize);
  EXPECT_EQ(legacy.rfind("HTTP/1.1 200", 0), 0u) << legacy;
  EXPECT_EQ(legacy.find("mcp-session-id"), std::string::npos) << legacy;  // stateless
  const std::string modern = post_json(server_.url(), modern_tools_list(), kModernHeaders);
  EXPECT_EQ(modern.rfind("HTTP/1.1 200", 0), 0u) << modern;
}

TEST_F(NodeMcpServerTest, StopEndsTheServer) {
  start("modern");
  const uint16_t port = port_of(server_.url());
  EXPECT_TRUE(server_.stop());
  EXPECT_FALSE(server_.running());
  EXPECT_TRUE(server_.url().empty());
  EXPECT_EQ(connect_loopback(port), -1);
}

TEST_F(NodeMcpServerTest, AnUnknownModeFailsWithTheServersMessage) {
  std::string error;
  EXPECT_FALSE(server_.start("sideways", &error));
  EXPECT_NE(error.find("unknown --mode sideways"), std::string::npos) << error;
}

class NodeOAuthServerTest : public ::testing::Test {
 protected:
  void start(const OAuthServerOptions& options) {
    std::string error;
    ASSERT_TRUE(server_.start(options, &error)) << error;
  }
  std::string token_request(std::string_view form) {
    return post(server_.issuer() + "/token", "application/x-www-form-urlencoded", form);
  }
  NodeOAuthServer server_;
};

TEST_F(NodeOAuthServerTest, StrictClientsGetTokensWithTheConfiguredLifetime) {
  start({.token_ttl_s = 5, .clients = {"app:s3cret"}, .resource = false});
  const std::string good = token_request("grant_type=client_credentials&client_id=app&client_secret=s3cret");
  EXPECT_EQ(good.rfind("HTTP/1.1 200", 0), 0u) << good;
  EXPECT_NE(good.find("\"access_token\":\""), std::string::npos) << good;
  EXPECT_NE(good.find("\"expires_in\":5"), std::string::npos) << good;
  const std::string bad = token_request("grant_type=client_credentials&client_id=app&client_secret=wrong");
  EXPECT_EQ(bad.rfind("HTTP/1.1 401", 0), 0u) << bad;
  EXPECT_NE(bad.find("invalid_client"), std::string::npos) << bad;
}

TEST_F(NodeOAuthServerTest, TheResourceServerAcceptsOnlyItsIssuersTokens) {
  OAuthServerOptions options;
  options.resource = true;
  start(options);
  const std::string issued = token_request("grant_type=client_credentials&client_id=any");
  const size_t at = issued.find("\"access_token\":\"");
  ASSERT_NE(at, std::string::npos) << issued;
  const size_t begin = at + 16;
  const std::string token = issued.substr(begin, issued.find('"', begin) - begin);
  const auto get = [&](std::string_view auth) {
    return blocking_exchange(port_of(server_.resource_url()),
                             "GET /api HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + std::string(auth) +
                                 "\r\n");
  };
  const std::string ok = get("Authorization: Bearer " + token + "\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok;
  const std::string forged = get("Authorization: Bearer " + token.substr(0, token.size() - 4) + "AAAA\r\n");
  EXPECT_EQ(forged.rfind("HTTP/1.1 401", 0), 0u) << forged;
  EXPECT_NE(forged.find("error=\"invalid_token\""), std::string::npos) << forged;
  const std::string none = get("");
  EXPECT_EQ(none.rfind("HTTP/1.1 401", 0), 0u) << none;
}

}  // namespace
}  // namespace luaload::test
