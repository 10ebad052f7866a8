// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/target/target_fixture.hpp"

namespace luaload::test {
namespace {

using engine::target::TargetOptions;
using json = nlohmann::json;

constexpr const char* kBasicAuth = "Authorization: Basic bHVhbG9hZDpzZWNyZXQ=\r\n";  // luaload:secret
constexpr const char* kForm = "Content-Type: application/x-www-form-urlencoded\r\n";
// RFC 7636 appendix B.
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

class OAuthTest : public TargetTest {
 protected:
  HttpResponse token(BlockingClient& client, const std::string& form, const std::string& auth = kBasicAuth) {
    return client.request("POST", "/oauth/token", auth + kForm, form);
  }
  HttpResponse api(BlockingClient& client, const std::string& path, const std::string& access_token) {
    return client.request("GET", path, "Authorization: Bearer " + access_token + "\r\n");
  }
};

TEST_F(OAuthTest, ClientCredentialsGrantIssuesABearerTokenWithoutRefresh) {
  start();
  BlockingClient client(port());
  HttpResponse res = token(client, "grant_type=client_credentials&scope=read");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.header("cache-control"), "no-store");
  json body = json::parse(res.body);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 3600);
  EXPECT_EQ(body["scope"], "read");
  EXPECT_FALSE(body.contains("refresh_token"));
  EXPECT_EQ(api(client, "/api/items", body["access_token"]).status, 200);
}

TEST_F(OAuthTest, ClientSecretInTheBodyIsAccepted) {
  start();
  BlockingClient client(port());
  HttpResponse res = token(client, "grant_type=client_credentials&client_id=luaload&client_secret=secret", "");
  EXPECT_EQ(res.status, 200) << res.body;
}

TEST_F(OAuthTest, WrongClientSecretIs401InvalidClientWithChallenge) {
  start();
  BlockingClient client(port());
  HttpResponse res = token(client, "grant_type=client_credentials", "Authorization: Basic bHVhbG9hZDp3cm9uZw==\r\n");
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.header("www-authenticate"), R"(Basic realm="luaload-target")");
  EXPECT_EQ(json::parse(res.body)["error"], "invalid_client");
}

TEST_F(OAuthTest, PasswordGrantChecksTheUserAndIssuesARefreshToken) {
  start();
  BlockingClient client(port());
  HttpResponse bad = token(client, "grant_type=password&username=u7&password=nope");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json::parse(bad.body)["error"], "invalid_grant");
  HttpResponse good = token(client, "grant_type=password&username=u7&password=pass");
  ASSERT_EQ(good.status, 200);
  json body = json::parse(good.body);
  EXPECT_TRUE(body.contains("refresh_token"));
  HttpResponse profile = api(client, "/api/profile", body["access_token"]);
  ASSERT_EQ(profile.status, 200);
  EXPECT_EQ(json::parse(profile.body)["user"], "u7");
}

TEST_F(OAuthTest, RefreshTokenRotatesAndTheOldOneBecomesInvalidGrant) {
  start();
  BlockingClient client(port());
  json first = json::parse(token(client, "grant_type=password&username=u1&password=pass").body);
  std::string old_refresh = first["refresh_token"];
  HttpResponse refreshed = token(client, "grant_type=refresh_token&refresh_token=" + old_refresh);
  ASSERT_EQ(refreshed.status, 200);
  json second = json::parse(refreshed.body);
  EXPECT_NE(second["refresh_token"], old_refresh);
  EXPECT_NE(second["access_token"], first["access_token"]);
  HttpResponse reused = token(client, "grant_type=refresh_token&refresh_token=" + old_refresh);
  EXPECT_EQ(reused.status, 400);
  EXPECT_EQ(json::parse(reused.body)["error"], "invalid_grant");
  EXPECT_EQ(token(client, "grant_type=refresh_token&refresh_token=" + second["refresh_token"].get<std::string>()).status,
            200);
}

TEST_F(OAuthTest, ExpiredAccessTokenGets401InvalidToken) {
  TargetOptions options;
  options.token_ttl_ms = 150;
  start(options);
  BlockingClient client(port());
  std::string access = json::parse(token(client, "grant_type=client_credentials").body)["access_token"];
  EXPECT_EQ(api(client, "/api/items", access).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  HttpResponse res = api(client, "/api/items", access);
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.header("www-authenticate").rfind(R"(Bearer realm="luaload-target", error="invalid_token")", 0), 0u);
}

TEST_F(OAuthTest, ApiWithoutOrWithBogusTokenIs401) {
  start();
  BlockingClient client(port());
  HttpResponse missing = client.request("GET", "/api/items");
  EXPECT_EQ(missing.status, 401);
  EXPECT_NE(missing.header("www-authenticate").find(R"(error="invalid_token")"), std::string::npos);
  EXPECT_EQ(api(client, "/api/items", "bogus").status, 401);
}

TEST_F(OAuthTest, UnsupportedGrantTypeIsReported) {
  start();
  BlockingClient client(port());
  HttpResponse res = token(client, "grant_type=magic");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(json::parse(res.body)["error"], "unsupported_grant_type");
}

class PkceTest : public OAuthTest {
 protected:
  // Runs /oauth/authorize and returns the code from the redirect.
  std::string authorize(BlockingClient& client) {
    HttpResponse res = client.request("GET", std::string("/oauth/authorize?response_type=code&client_id=luaload") +
                                                 "&redirect_uri=http%3A%2F%2Fapp%2Fcb&code_challenge=" + kChallenge +
                                                 "&code_challenge_method=S256&state=xyz");
    EXPECT_EQ(res.status, 302);
    std::string location = res.header("location");
    EXPECT_EQ(location.rfind("http://app/cb?code=", 0), 0u) << location;
    EXPECT_NE(location.find("&state=xyz"), std::string::npos) << location;
    size_t start = location.find("code=") + 5;
    return location.substr(start, location.find('&', start) - start);
  }
};

TEST_F(PkceTest, AuthorizationCodeWithTheRightVerifierIssuesTokens) {
  start();
  BlockingClient client(port());
  std::string code = authorize(client);
  HttpResponse res = token(client, "grant_type=authorization_code&code=" + code +
                                       "&redirect_uri=http%3A%2F%2Fapp%2Fcb&code_verifier=" + kVerifier);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_TRUE(json::parse(res.body).contains("refresh_token"));
}

TEST_F(PkceTest, WrongVerifierIsInvalidGrantAndTheCodeIsSingleUse) {
  start();
  BlockingClient client(port());
  std::string code = authorize(client);
  std::string form = "grant_type=authorization_code&code=" + code + "&redirect_uri=http%3A%2F%2Fapp%2Fcb";
  HttpResponse wrong = token(client, form + "&code_verifier=not-the-verifier");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(json::parse(wrong.body)["error"], "invalid_grant");
  HttpResponse again = token(client, form + "&code_verifier=" + kVerifier);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(json::parse(again.body)["error_description"], "authorization code is invalid, expired or already used");
}

TEST_F(PkceTest, AuthorizeWithoutChallengeRedirectsWithInvalidRequest) {
  start();
  BlockingClient client(port());
  HttpResponse res =
      client.request("GET", "/oauth/authorize?response_type=code&client_id=luaload&redirect_uri=http://app/cb&state=s");
  EXPECT_EQ(res.status, 302);
  EXPECT_EQ(res.header("location").rfind("http://app/cb?error=invalid_request", 0), 0u) << res.header("location");
}

TEST_F(PkceTest, AuthorizeForAnUnknownClientDoesNotRedirect) {
  start();
  BlockingClient client(port());
  HttpResponse res = client.request("GET", "/oauth/authorize?response_type=code&client_id=evil&redirect_uri=http://x");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.header("location"), "");
}

}  // namespace
}  // namespace luaload::test
