// SPDX-License-Identifier: MIT
// MCP authorization end to end: `luaload run` scripts using mcp.connect(url, { auth = ... }) against the built-in
// target's /protected/mcp (RFC 9728 metadata, its own authorization server with dynamic registration, an
// auto-approving authorize endpoint with iss, resource-bound tokens, mcp:read plus a step-up tool needing
// mcp:write), started in-process on 127.0.0.1 (port 0).
#include <gtest/gtest.h>

#include "target_script_test.hpp"

namespace luaload::test {
namespace {

constexpr const char* kPrelude = R"(
local mcp = require("luaload.mcp")
require("luaload.mcp.auth")  -- defines mcp_auth_flows and the oauth_* counters, which thresholds name
local ll = require("luaload")
local url = ll.env.TARGET .. "/protected/mcp"
local function out(key, value) print(key .. "=" .. tostring(value)) end
local function must(value, err)
  if value == nil then error(tostring(err), 0) end
  return value
end
)";

class McpAuthTest : public TargetScriptTest {
 protected:
  McpAuthTest() : TargetScriptTest(kPrelude) {}

  void start(int64_t token_ttl_ms = 3'600'000) {
    engine::target::TargetOptions options;
    options.token_ttl_ms = token_ttl_ms;
    start_target(options);
  }

  nlohmann::json metrics() const {
    auto s = summary();
    return s.is_discarded() ? nlohmann::json() : s["metrics"];
  }

  static double count(const nlohmann::json& m, const std::string& name) {
    return m.contains(name) ? m[name]["values"]["count"].get<double>() : 0;
  }
};

TEST_F(McpAuthTest, A401StartsDiscoveryRegistrationAndTheAuthorizationCodeFlowThenEveryCallCarriesTheToken) {
  start();
  auto r = run(R"(
options = { thresholds = {
  ["http_reqs{name:mcp_auth_register}"] = { "count==1" },
  ["http_reqs{name:oauth_authorize}"] = { "count>=1" },
  ["mcp_auth_flows{reason:initial}"] = { "count==1" },
  -- The token-less request's 401 is the protocol's first step, not a failed request.
  http_req_failed = { "rate==0" },
} }
function default()
  local session = must(mcp.connect(url, { auth = {} }))
  local tools = must(session:tools_list())
  out("tools", #tools.tools > 0)
  local echoed = must(session:call_tool("echo", { text = "hi" }))
  out("echo", echoed.content[1].text)
  session:close()
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "tools=true");
  LUALOAD_EXPECT_LINE(r, "echo=hi");
  EXPECT_EQ(count(metrics(), "oauth_logins"), 1);
}

TEST_F(McpAuthTest, AToolNeedingMoreScopeIsCalledAfterAStepUp) {
  start();
  auto r = run(R"(
options = { thresholds = { ["mcp_auth_flows{reason:step_up}"] = { "count==1" } } }
function default()
  local session = must(mcp.connect(url, { auth = {} }))
  local result = must(session:call_tool("test_step_up", {}))
  out("stepped", result ~= nil)
  must(session:call_tool("test_step_up", {}))   -- the token now has the scope: no second step-up
  session:close()
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "stepped=true");
  EXPECT_EQ(count(metrics(), "oauth_logins"), 2);  // the first authorization and the step-up
}

TEST_F(McpAuthTest, EachVuKeepsItsTokenAcrossSessionsAndTheRunDiscoversAndRegistersOnce) {
  start();
  auto r = run(R"(
options = { vus = 3, iterations = 12, thresholds = {
  ["http_reqs{name:mcp_auth_register}"] = { "count==1" },
  checks = { "rate==1" },
} }
function default()
  local session, err = mcp.connect(url, { auth = {} })
  ll.check(session, { connected = function(s) return s ~= nil end })
  if session then
    local _, lerr = session:tools_list()
    ll.check(lerr, { listed = function(e) return e == nil end })
    session:close()
  end
end
)",
               {"--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(count(metrics(), "oauth_logins"), 3) << "one authorization per VU, not per session";
}

TEST_F(McpAuthTest, ClientCredentialsWithASharedTokenLogInOncePerWorker) {
  start();
  auto r = run(R"(
options = { vus = 50, iterations = 200, thresholds = { checks = { "rate==1" } } }
local auth = { grant = "client_credentials", client_id = "luaload", client_secret = "secret", shared = true }
function default()
  local session = mcp.connect(url, { auth = auth })
  local result, err = session and session:call_tool("echo", { text = "x" })
  ll.check(result, { called = function(r) return r ~= nil and err == nil end })
  if session then session:close() end
end
)",
               {"--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(count(metrics(), "oauth_logins"), 2);
}

TEST_F(McpAuthTest, ShortLivedTokensAreRenewedWithoutAnExpiredTokenRetry) {
  start(3'000);
  auto r = run(R"(
options = { vus = 4, duration = "7s", thresholds = {
  oauth_expired_token_retries = { "count==0" },
  oauth_token_refreshes = { "count>=4" },
  checks = { "rate==1" },
} }
local session
function default()
  session = session or mcp.connect(url, { auth = {} })
  local _, err = session:call_tool("echo", { text = "x" })   -- not cached, unlike tools/list
  ll.check(err, { called = function(e) return e == nil end })
  ll.sleep(0.2)
end
)",
               {});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(McpAuthTest, AClientWithAPrivateKeyRegistersItsPublicKeyAndAuthenticatesWithSignedAssertions) {
  start();
  auto r = run(R"(
local crypto = require("luaload.crypto")
function default()
  for _, alg in ipairs({ "ES256", "RS256" }) do
    local auth = { grant = "client_credentials", private_key = crypto.generate_key(alg), signing_alg = alg }
    local session = must(mcp.connect(url, { auth = auth }))
    local echoed = must(session:call_tool("echo", { text = alg }))
    out("echo", echoed.content[1].text)
    session:close()
  end
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "echo=ES256");
  LUALOAD_EXPECT_LINE(r, "echo=RS256");
  EXPECT_EQ(count(metrics(), "oauth_logins"), 2);
}

TEST_F(McpAuthTest, CredentialsTheAuthorizationServerRefusesAreAnAuthError) {
  start();
  auto r = run(R"(
function default()
  local session, err = mcp.connect(url, { auth = { grant = "client_credentials", client_id = "luaload",
    client_secret = "wrong" } })
  out("session", session)
  out("kind", err and err.kind)
  out("invalid_client", tostring(err):find("invalid_client", 1, true) ~= nil)
end
)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "session=nil");
  LUALOAD_EXPECT_LINE(r, "kind=auth");
  LUALOAD_EXPECT_LINE(r, "invalid_client=true");
}

}  // namespace
}  // namespace luaload::test
