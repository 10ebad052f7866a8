-- SPDX-License-Identifier: MIT
-- The luaload side of the conformance suite's auth/* client scenarios (0.2.0-alpha.11), dispatched by
-- tests/conformance/client.lua: a table of functions keyed by scenario name, each called with
-- ctx = { url, scenario, protocol_version, context } (context: MCP_CONFORMANCE_CONTEXT decoded). Only the module
-- API is used: mcp.connect(url, { auth = ... }) does discovery, registration, authorization, tokens, step-up and
-- DPoP by itself; the scenarios differ only in the auth options a script would write.
--
-- A scenario function returns when luaload did its part and raises otherwise. Scenarios whose point is that a
-- client refuses something (a foreign resource, a wrong iss, an endless step-up) pass when the MCP call fails with
-- an error of kind "auth" before anything is sent to the place the scenario guards.
local mcp = require("luaload.mcp")

local M = {}

-- The Client ID Metadata Document URL luaload presents when a server supports them (the suite checks the URL).
M.CIMD_URL = "https://conformance-test.local/client-metadata.json"

local function connect(ctx, auth)
  auth.client_name = auth.client_name or "luaload-conformance"
  return mcp.connect(ctx.url, { auth = auth, protocol_version = ctx.protocol_version or "auto",
    client_info = { name = "luaload-conformance", version = mcp.VERSION } })
end

local function check(what, err)
  if err ~= nil then
    error(what .. ": " .. tostring(err), 0)
  end
end

-- connect, tools/list, tools/call test-tool, close: the journey every scenario server supports.
local function journey(ctx, auth, with_call)
  local session, err = connect(ctx, auth)
  check("connect", err)
  local _, lerr = session:tools_list()
  check("tools/list", lerr)
  if with_call ~= false then
    local _, cerr = session:call_tool("test-tool", {})
    check("tools/call", cerr)
  end
  session:close()
end

-- The journey must fail with an authorization error (and nothing else).
local function refused(ctx, auth)
  local session, err = connect(ctx, auth)
  if session then
    local _, lerr = session:tools_list()
    err = lerr
    if err == nil then
      local _, cerr = session:call_tool("test-tool", {})
      err = cerr
    end
    session:close()
  end
  if err == nil then
    error("the server's authorization was accepted although the scenario expects luaload to refuse it", 0)
  end
  if err.kind ~= "auth" then
    error("expected an authorization error, got: " .. tostring(err), 0)
  end
end

-- The authorization code flow with whatever registration the server offers.
local function browser_client()
  return { client_metadata_url = M.CIMD_URL }
end

local function authorized(ctx)
  journey(ctx, browser_client())
end

local function refusing(ctx)
  refused(ctx, browser_client())
end

for _, name in ipairs({
  "auth/metadata-default", "auth/metadata-var1", "auth/metadata-var2", "auth/metadata-var3", "auth/basic-cimd",
  "auth/scope-from-www-authenticate", "auth/scope-from-scopes-supported", "auth/scope-omitted-when-undefined",
  "auth/scope-step-up", "auth/token-endpoint-auth-basic", "auth/token-endpoint-auth-post",
  "auth/token-endpoint-auth-none", "auth/2025-03-26-oauth-metadata-backcompat",
  "auth/2025-03-26-oauth-endpoint-fallback", "auth/offline-access-scope", "auth/offline-access-not-supported",
  "auth/authorization-server-migration", "auth/iss-supported", "auth/iss-not-advertised", "auth/dpop",
  "auth/dpop-nonce",
}) do
  M[name] = authorized
end

for _, name in ipairs({
  "auth/resource-mismatch", "auth/iss-supported-missing", "auth/iss-wrong-issuer", "auth/iss-unexpected",
  "auth/iss-normalized", "auth/metadata-issuer-mismatch", "auth/scope-retry-limit",
}) do
  M[name] = refusing
end

M["auth/pre-registration"] = function(ctx)
  journey(ctx, { client_id = ctx.context.client_id, client_secret = ctx.context.client_secret })
end

M["auth/client-credentials-basic"] = function(ctx)
  journey(ctx, { grant = "client_credentials", client_id = ctx.context.client_id,
    client_secret = ctx.context.client_secret }, false)
end

M["auth/client-credentials-jwt"] = function(ctx)
  journey(ctx, { grant = "client_credentials", client_id = ctx.context.client_id,
    private_key = ctx.context.private_key_pem, signing_alg = ctx.context.signing_algorithm or "ES256" }, false)
end

-- Enterprise-managed authorization (SEP-990): the IdP's ID token is exchanged for an ID-JAG (RFC 8693), which
-- is the assertion of a JWT bearer grant (RFC 7523) at the MCP server's authorization server.
M["auth/enterprise-managed-authorization"] = function(ctx)
  local c = ctx.context
  journey(ctx, { grant = "jwt_bearer", client_id = c.client_id, client_secret = c.client_secret,
    id_jag = { token_url = c.idp_token_endpoint, client_id = c.idp_client_id, subject_token = c.idp_id_token } })
end

-- Workload identity federation (SEP-1933): the workload's JWT is the assertion; a public client.
M["auth/wif-jwt-bearer"] = function(ctx)
  journey(ctx, { grant = "jwt_bearer", client_id = ctx.context.client_id, assertion = ctx.context.valid_jwt,
    client_auth = "none" }, false)
end

return M
