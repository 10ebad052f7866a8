// SPDX-License-Identifier: MIT
// /protected/mcp and the authorization server behind it: challenges, discovery, registration, the authorize
// redirect, audiences, scopes and step-up.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine/target/oauth_fixture.hpp"

namespace luaload::test {
namespace {

using json = nlohmann::json;

class ProtectedTest : public AuthTest {
 protected:
  const json kToolsList = modern_call(1, "tools/list");
};


TEST_F(ProtectedTest, ProtectedMcpWithoutATokenIs401NamingResourceMetadataAndScope) {
  start();
  HttpResponse res = protected_call("", kToolsList);
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.header("www-authenticate"),
            "Bearer resource_metadata=\"" + base() + "/.well-known/oauth-protected-resource/protected/mcp\", "
            "scope=\"mcp:read\"");
  HttpResponse bogus = protected_call("nope", kToolsList);
  EXPECT_EQ(bogus.status, 401);
  EXPECT_NE(bogus.header("www-authenticate").find("error=\"invalid_token\""), std::string::npos);
}

TEST_F(ProtectedTest, ProtectedResourceMetadataNamesTheResourceAndItsAuthorizationServer) {
  start();
  for (const char* path : {"/.well-known/oauth-protected-resource/protected/mcp", "/.well-known/oauth-protected-resource"}) {
    HttpResponse res = request("GET", path);
    ASSERT_EQ(res.status, 200) << path;
    json prm = json::parse(res.body);
    EXPECT_EQ(prm["resource"], resource());
    EXPECT_EQ(prm["authorization_servers"], json::array({base() + "/oauth"}));
    EXPECT_EQ(prm["scopes_supported"], json::array({"mcp:read", "mcp:write"}));
  }
}

TEST_F(ProtectedTest, AuthorizationServerMetadataIsAtTheRfc8414AndOpenIdLocationsOfBothIssuers) {
  start();
  struct Where {
    const char* path;
    std::string issuer;
  } wheres[] = {{"/.well-known/oauth-authorization-server/oauth", base() + "/oauth"},
                {"/.well-known/openid-configuration/oauth", base() + "/oauth"},
                {"/oauth/.well-known/openid-configuration", base() + "/oauth"},
                {"/.well-known/oauth-authorization-server", base()},
                {"/.well-known/openid-configuration", base()}};
  for (const Where& w : wheres) {
    HttpResponse res = request("GET", w.path);
    ASSERT_EQ(res.status, 200) << w.path;
    json meta = json::parse(res.body);
    EXPECT_EQ(meta["issuer"], w.issuer) << w.path;
    EXPECT_EQ(meta["token_endpoint"], w.issuer + "/token") << w.path;
    EXPECT_EQ(meta["registration_endpoint"], w.issuer + "/register") << w.path;
    EXPECT_EQ(meta["code_challenge_methods_supported"], json::array({"S256"}));
    EXPECT_EQ(meta["client_id_metadata_document_supported"], true);
    EXPECT_EQ(meta["authorization_response_iss_parameter_supported"], true);
  }
}

TEST_F(ProtectedTest, RegistrationAuthorizationAndTokenGiveAccessToTheProtectedMcp) {
  start();
  json client = public_client();
  EXPECT_FALSE(client.contains("client_secret"));
  auto redirect = authorize(client["client_id"]);
  EXPECT_EQ(redirect["state"], "st");
  EXPECT_EQ(redirect["iss"], base() + "/oauth");
  HttpResponse res = token({{"grant_type", "authorization_code"}, {"code", redirect["code"]},
                            {"client_id", client["client_id"]}, {"redirect_uri", kRedirect},
                            {"code_verifier", kVerifier}, {"resource", resource()}});
  ASSERT_EQ(res.status, 200) << res.body;
  json tokens = json::parse(res.body);
  EXPECT_EQ(tokens["scope"], "mcp:read");
  EXPECT_FALSE(tokens["refresh_token"].get<std::string>().empty());
  HttpResponse call = protected_call(tokens["access_token"], kToolsList);
  ASSERT_EQ(call.status, 200) << call.body;
  EXPECT_EQ(json::parse(call.body)["result"]["tools"].size(), 3u);
}

TEST_F(ProtectedTest, ATokenWithoutThisResourceAsItsAudienceIs401) {
  start();
  HttpResponse res = token({{"grant_type", "client_credentials"}, {"scope", "mcp:read"}},
                           "Authorization: Basic bHVhbG9hZDpzZWNyZXQ=\r\n");
  ASSERT_EQ(res.status, 200);
  HttpResponse call = protected_call(json::parse(res.body)["access_token"], kToolsList);
  EXPECT_EQ(call.status, 401);
  EXPECT_NE(call.header("www-authenticate").find("invalid_token"), std::string::npos);
  HttpResponse scoped = token({{"grant_type", "client_credentials"}, {"scope", "mcp:read"}, {"resource", resource()}},
                              "Authorization: Basic bHVhbG9hZDpzZWNyZXQ=\r\n");
  EXPECT_EQ(protected_call(json::parse(scoped.body)["access_token"], kToolsList).status, 200);
}

TEST_F(ProtectedTest, TheStepUpToolNeedsMcpWriteAndSays403InsufficientScope) {
  start();
  json step_up = modern_call(2, "tools/call", {{"name", "test_step_up"}});
  json reader = login();
  HttpResponse denied = protected_call(reader["access_token"], step_up);
  EXPECT_EQ(denied.status, 403);
  std::string challenge = denied.header("www-authenticate");
  EXPECT_NE(challenge.find("error=\"insufficient_scope\""), std::string::npos) << challenge;
  EXPECT_NE(challenge.find("scope=\"mcp:write\""), std::string::npos) << challenge;
  EXPECT_NE(challenge.find("resource_metadata=\""), std::string::npos) << challenge;
  EXPECT_EQ(protected_call(reader["access_token"], kToolsList).status, 200);
  json writer = login("mcp:read mcp:write");
  HttpResponse allowed = protected_call(writer["access_token"], step_up);
  ASSERT_EQ(allowed.status, 200);
  EXPECT_EQ(json::parse(allowed.body)["result"]["content"][0]["text"], "step-up ok: this call needed mcp:write");
}

TEST_F(ProtectedTest, RefreshKeepsTheAudienceAndRefusesAnotherResource) {
  start();
  json tokens = login();
  HttpResponse other = token({{"grant_type", "refresh_token"}, {"refresh_token", tokens["refresh_token"]},
                              {"client_id", tokens["client_id"]}, {"resource", "https://elsewhere.example/mcp"}});
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(json::parse(other.body)["error"], "invalid_target");
  HttpResponse refreshed = token({{"grant_type", "refresh_token"}, {"refresh_token", tokens["refresh_token"]},
                                  {"client_id", tokens["client_id"]}});
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_EQ(protected_call(json::parse(refreshed.body)["access_token"], kToolsList).status, 200);
}

TEST_F(ProtectedTest, ACodeForOneResourceCannotBeRedeemedForAnother) {
  start();
  json client = public_client();
  auto redirect = authorize(client["client_id"]);
  HttpResponse res = token({{"grant_type", "authorization_code"}, {"code", redirect["code"]},
                            {"client_id", client["client_id"]}, {"redirect_uri", kRedirect},
                            {"code_verifier", kVerifier}, {"resource", "https://elsewhere.example/mcp"}});
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(json::parse(res.body)["error"], "invalid_target");
}

TEST_F(ProtectedTest, RegistrationChecksItsMetadata) {
  start();
  HttpResponse no_redirect = request("POST", "/oauth/register", "Content-Type: application/json\r\n",
                                     json({{"client_name", "x"}}).dump());
  EXPECT_EQ(no_redirect.status, 400);
  EXPECT_EQ(json::parse(no_redirect.body)["error"], "invalid_redirect_uri");
  HttpResponse bad_method = request("POST", "/register", "Content-Type: application/json\r\n",
                                    json({{"redirect_uris", {kRedirect}}, {"token_endpoint_auth_method", "magic"}}).dump());
  EXPECT_EQ(json::parse(bad_method.body)["error"], "invalid_client_metadata");
  json machine = register_client({{"grant_types", {"client_credentials"}}, {"token_endpoint_auth_method", "client_secret_post"}});
  EXPECT_FALSE(machine["client_secret"].get<std::string>().empty());
}

TEST_F(ProtectedTest, AConfidentialClientMustAuthenticateTheWayItRegistered) {
  start();
  json client = register_client({{"grant_types", {"client_credentials"}}, {"token_endpoint_auth_method", "client_secret_post"}});
  std::string id = client["client_id"], secret = client["client_secret"];
  std::string basic = "Authorization: Basic " + base64_of(id + ":" + secret) + "\r\n";
  HttpResponse wrong_method = token({{"grant_type", "client_credentials"}}, basic);
  EXPECT_EQ(wrong_method.status, 401);
  EXPECT_EQ(json::parse(wrong_method.body)["error"], "invalid_client");
  HttpResponse no_secret = token({{"grant_type", "client_credentials"}, {"client_id", id}});
  EXPECT_EQ(no_secret.status, 401);
  HttpResponse ok = token({{"grant_type", "client_credentials"}, {"client_id", id}, {"client_secret", secret},
                           {"resource", resource()}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json::parse(ok.body)["scope"], "mcp:read");
}

TEST_F(ProtectedTest, TheRootIssuerServesThe2025_03_26DefaultEndpoints) {
  start();
  json client = register_client({{"redirect_uris", {kRedirect}}, {"token_endpoint_auth_method", "none"}}, "/register");
  auto redirect = authorize(client["client_id"], "", "/authorize");
  EXPECT_EQ(redirect["iss"], base());
  HttpResponse res = token({{"grant_type", "authorization_code"}, {"code", redirect["code"]},
                            {"client_id", client["client_id"]}, {"redirect_uri", kRedirect},
                            {"code_verifier", kVerifier}},
                           "", "/token");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(protected_call(json::parse(res.body)["access_token"], kToolsList).status, 200);
}

TEST_F(ProtectedTest, AuthorizeRefusesUnregisteredRedirectsAndPlainPkceForRegisteredClients) {
  start();
  json client = public_client();
  std::string id = client["client_id"];
  EXPECT_TRUE(authorize(id, "", "/oauth/authorize", "http://evil.example/cb").empty());
  EXPECT_FALSE(authorize(id, "", "/oauth/authorize", "http://127.0.0.1:5555/cb").empty());  // loopback: any port
  HttpResponse plain = request("GET", "/oauth/authorize?" + form({{"response_type", "code"}, {"client_id", id},
                                                                   {"redirect_uri", kRedirect},
                                                                   {"code_challenge", "abc"},
                                                                   {"code_challenge_method", "plain"}}));
  EXPECT_NE(plain.header("location").find("error=invalid_request"), std::string::npos);
}

}  // namespace
}  // namespace luaload::test
