// SPDX-License-Identifier: MIT
#pragma once

// Helpers for the authorization-server and /protected/mcp tests: registration, the authorize redirect, token
// requests and MCP calls with a bearer token.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/target/http_util.hpp"
#include "engine/target/mcp_fixture.hpp"

namespace luaload::test {

class AuthTest : public McpTest {
 protected:
  using json = nlohmann::json;

  // RFC 7636 appendix B.
  static constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  static constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  static constexpr const char* kRedirect = "http://127.0.0.1:9/cb";

  // Standard base64 with padding, from the target's base64url encoder.
  static std::string base64_of(const std::string& bytes) {
    std::string out = engine::target::base64url_encode(bytes);
    for (char& c : out) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (out.size() % 4 != 0) out.push_back('=');
    return out;
  }

  std::string base() const { return "http://127.0.0.1:" + std::to_string(port()); }
  std::string resource() const { return base() + "/protected/mcp"; }

  static std::string form(const std::map<std::string, std::string>& fields) {
    std::string out;
    for (const auto& [key, value] : fields) {
      out += (out.empty() ? "" : "&") + key + "=" + engine::target::url_encode(value);
    }
    return out;
  }

  // The request's Host header must be what the URLs are built from: 127.0.0.1:PORT.
  HttpResponse request(const std::string& method, const std::string& path, const std::string& headers = "",
                       const std::string& body = "") {
    BlockingClient client(port());
    std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port()) + "\r\n" +
                      headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    EXPECT_TRUE(client.send(req));
    return client.read_response(method == "HEAD");
  }

  json register_client(const json& metadata, const std::string& path = "/oauth/register") {
    HttpResponse res = request("POST", path, "Content-Type: application/json\r\n", metadata.dump());
    EXPECT_EQ(res.status, 201) << res.body;
    return json::parse(res.body);
  }

  json public_client() {
    return register_client({{"client_name", "t"},
                            {"redirect_uris", {kRedirect}},
                            {"grant_types", {"authorization_code", "refresh_token"}},
                            {"token_endpoint_auth_method", "none"}});
  }

  // GET authorize; returns the query parameters of the redirect (empty when there was none).
  std::map<std::string, std::string> authorize(const std::string& client_id, const std::string& scope = "",
                                               const std::string& path = "/oauth/authorize",
                                               const std::string& redirect = kRedirect) {
    std::map<std::string, std::string> q = {{"response_type", "code"}, {"client_id", client_id},
                                            {"redirect_uri", redirect}, {"code_challenge", kChallenge},
                                            {"code_challenge_method", "S256"}, {"state", "st"},
                                            {"resource", resource()}};
    if (!scope.empty()) q["scope"] = scope;
    HttpResponse res = request("GET", path + "?" + form(q));
    std::map<std::string, std::string> out;
    std::string location = res.header("location");
    size_t query = location.find('?');
    if (res.status != 302 || query == std::string::npos) return out;
    std::string rest = location.substr(query + 1);
    while (!rest.empty()) {
      size_t amp = rest.find('&');
      std::string pair = rest.substr(0, amp);
      size_t eq = pair.find('=');
      out[pair.substr(0, eq)] = engine::target::url_decode(pair.substr(eq + 1)).value_or("");
      rest = amp == std::string::npos ? "" : rest.substr(amp + 1);
    }
    return out;
  }

  HttpResponse token(const std::map<std::string, std::string>& fields, const std::string& auth = "",
                     const std::string& path = "/oauth/token") {
    return request("POST", path, auth + "Content-Type: application/x-www-form-urlencoded\r\n", form(fields));
  }

  // Registration, authorization and the code exchange for a public client; the token response.
  json login(const std::string& scope = "") {
    json client = public_client();
    std::string id = client["client_id"];
    auto redirect = authorize(id, scope);
    HttpResponse res = token({{"grant_type", "authorization_code"}, {"code", redirect["code"]}, {"client_id", id},
                              {"redirect_uri", kRedirect}, {"code_verifier", kVerifier}, {"resource", resource()}});
    EXPECT_EQ(res.status, 200) << res.body;
    json tokens = json::parse(res.body);
    tokens["client_id"] = id;
    return tokens;
  }

  // A modern MCP request on /protected/mcp with the bearer token.
  HttpResponse protected_call(const std::string& access_token, const json& message) {
    return request("POST", "/protected/mcp", modern_headers(message) + "Authorization: Bearer " + access_token + "\r\n",
                   message.dump());
  }
};

}  // namespace luaload::test
