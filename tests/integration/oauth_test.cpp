// SPDX-License-Identifier: MIT
// luaload.oauth end to end: `luaload run` on a script written by the test, against the built-in target started
// in-process on 127.0.0.1 (port 0). Scripts report what they saw as `key=value` lines on stdout.
#include <gtest/gtest.h>

#include "target_script_test.hpp"

namespace luaload::test {
namespace {

// Every script starts with the modules, the target's URLs, out(key, value) and a client factory.
constexpr const char* kOAuthPrelude = R"(
local oauth = require("luaload.oauth")
local http = require("luaload.http")
local ll = require("luaload")
local base = ll.env.TARGET
local function out(key, value) print(key .. "=" .. tostring(value)) end
local function new_client(extra)
  local config = { token_url = base .. "/oauth/token", client_id = "luaload", client_secret = "secret",
                   grant = "password", username = "u1", password = "pass" }
  for k, v in pairs(extra or {}) do config[k] = v end
  return oauth.new(config)
end
)";

class OAuthTest : public TargetScriptTest {
 protected:
  OAuthTest() : TargetScriptTest(kOAuthPrelude) {}

  void start_target(int64_t token_ttl_ms = 3'600'000) {
    engine::target::TargetOptions options;
    options.token_ttl_ms = token_ttl_ms;
    TargetScriptTest::start_target(options);
  }

  nlohmann::json metrics() const {
    auto s = summary();
    return s.is_discarded() ? nlohmann::json() : s["metrics"];
  }
};

TEST_F(OAuthTest, TokensThatExpireMidRunAreRefreshedBeforeAnyRequestIsRejected) {
  start_target(1'000);
  auto r = run(R"(
options = { thresholds = { ["http_req_duration{oauth_grant:refresh_token}"] = { "p(95)<1000" } } }
local client = new_client({ username = "u" .. ll.vu.id })
function default()
  local res = client:get(base .. "/api/items")
  ll.check(res, { ["items 200"] = function(r) return r.status == 200 end })
  ll.sleep(0.1)
end
)",
               {"-u", "2", "-d", "2500ms"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto m = metrics();
  EXPECT_EQ(m["oauth_logins"]["values"]["count"].get<double>(), 2);
  // A 1 s token is renewed 0.9 s after it was obtained: at least twice per VU in 2.5 s.
  EXPECT_GE(m["oauth_token_refreshes"]["values"]["count"].get<double>(), 4);
  EXPECT_EQ(m["http_req_failed"]["values"]["passes"].get<double>(), 0);
  EXPECT_EQ(m["checks"]["values"]["fails"].get<double>(), 0);
  const auto& threshold = m["http_req_duration{oauth_grant:refresh_token}"]["thresholds"]["p(95)<1000"];
  EXPECT_TRUE(threshold["ok"].get<bool>());
  EXPECT_FALSE(threshold["no_data"].get<bool>());
}

TEST_F(OAuthTest, AFailingThresholdOnTheRefreshGrantExits99) {
  start_target();
  auto r = run(R"(
options = { thresholds = { ["http_req_duration{oauth_grant:refresh_token}"] = { "p(95)<0.001" } } }
function default()
  local client = new_client()
  client:token()
  client:refresh()
end
)");
  EXPECT_EQ(r.exit_code, 99) << r.out << r.err;
  EXPECT_FALSE(metrics()["http_req_duration{oauth_grant:refresh_token}"]["thresholds"]["p(95)<0.001"]["ok"].get<bool>());
}

TEST_F(OAuthTest, ARotatedRefreshTokenReplacesTheOldOneWhichTheServerThenRejects) {
  start_target();
  auto r = run(R"(
function default()
  local client = new_client()
  client:token()
  local old = client.refresh_token
  client:refresh()
  out("rotated", client.refresh_token ~= old)
  local res = http.post(base .. "/oauth/token", nil, { form = { grant_type = "refresh_token", refresh_token = old,
    client_id = "luaload", client_secret = "secret" } })
  out("old", res.status .. " " .. res:json().error)
  out("profile", client:get(base .. "/api/profile"):json().user)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "rotated=true");
  LUALOAD_EXPECT_LINE(r, "old=400 invalid_grant");
  LUALOAD_EXPECT_LINE(r, "profile=u1");
}

TEST_F(OAuthTest, AnInvalidRefreshTokenLeadsToANewLogin) {
  start_target();
  auto r = run(R"(
function default()
  local client = new_client()
  local first = client:token()
  client.refresh_token = "revoked"
  local second = client:refresh()
  out("new_token", second ~= first)
  out("new_refresh", client.refresh_token ~= "revoked" and client.refresh_token ~= nil)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "new_token=true");
  LUALOAD_EXPECT_LINE(r, "new_refresh=true");
  const auto m = metrics();
  EXPECT_EQ(m["oauth_logins"]["values"]["count"].get<double>(), 2);
  EXPECT_FALSE(m.contains("oauth_token_refreshes"));  // the rejected refresh is not counted
}

TEST_F(OAuthTest, InvalidClientCredentialsAreReturnedAsAClearErrorNotRaised) {
  start_target();
  auto r = run(R"(
function default()
  local client = new_client({ grant = "client_credentials", client_secret = "wrong" })
  local token, err = client:token()
  out("token", token)
  out("error", err)
  out("kind", err.error)
  local res, rerr = client:get(base .. "/api/items")
  out("request", tostring(res) .. " " .. rerr.error)
end
)");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "token=nil");
  LUALOAD_EXPECT_LINE(r, "error=oauth: token request failed: invalid_client (client authentication failed) "
                 "[grant client_credentials, HTTP 401]");
  LUALOAD_EXPECT_LINE(r, "kind=invalid_client");
  LUALOAD_EXPECT_LINE(r, "request=nil invalid_client");
  EXPECT_EQ(r.err.find("oauth: token request failed"), std::string::npos) << "no iteration error: " << r.err;
}

TEST_F(OAuthTest, A401FromTheApiRenewsTheTokenOnceAndRetries) {
  start_target();
  auto r = run(R"(
function default()
  local client = new_client()
  client:token()
  client.access_token = "not-a-token"
  local res = client:get(base .. "/api/items")
  out("status", res.status)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "status=200");
  const auto m = metrics();
  EXPECT_EQ(m["http_req_failed"]["values"]["passes"].get<double>(), 1);  // the rejected first attempt
  EXPECT_EQ(m["oauth_token_refreshes"]["values"]["count"].get<double>(), 1);
}

TEST_F(OAuthTest, AuthorizationCodeWithPkceThroughTheTargetsAuthorizeEndpoint) {
  start_target();
  auto r = run(R"(
function default()
  local client = oauth.new({ token_url = base .. "/oauth/token", client_id = "luaload", client_secret = "secret",
    grant = "authorization_code", authorize_url = base .. "/oauth/authorize", redirect_uri = "http://app.test/cb",
    scope = "read write" })
  local profile = client:get(base .. "/api/profile"):json()
  out("profile", profile.user .. " " .. profile.scope)
  out("has_refresh", client.refresh_token ~= nil)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "profile=u1 read write");
  LUALOAD_EXPECT_LINE(r, "has_refresh=true");
}

TEST_F(OAuthTest, ClientCredentialsWithBodyAuthenticationAndScope) {
  start_target();
  auto r = run(R"(
function default()
  local client = new_client({ grant = "client_credentials", client_auth = "body", scope = "write" })
  local profile = client:get(base .. "/api/profile"):json()
  out("profile", profile.client_id .. " " .. profile.scope)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "profile=luaload write");
  EXPECT_EQ(metrics()["oauth_logins"]["values"]["count"].get<double>(), 1);
}

}  // namespace
}  // namespace luaload::test
