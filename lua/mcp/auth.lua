-- SPDX-License-Identifier: MIT
-- luaload.mcp.auth: MCP authorization for the streamable HTTP transport (docs/mcp-authorization.md). The
-- transport calls two hooks when the session has `opts.auth`:
--
--   auth:prepare(req)           before every send (and resend). req = { method =, url =, headers = } (the same
--                               table for a request and its resends; auth keeps its per-request counters in it).
--                               Adds Authorization (and DPoP) headers, obtaining or renewing the token first when
--                               needed (network I/O). Returns true, or nil, err (err.kind == "auth").
--                               Sets req.auth_challenge_expected when it sent no token, so that the 401 is
--                               not counted as a failed request.
--   auth:on_response(req, res)  for every 401 and 403 answer. Runs discovery, registration, authorization or a
--                               step-up as the answer asks. Returns true when the request should be sent again
--                               (prepare first), else nil, err (kind "auth"). Attempts are bounded here.
--
-- Before the first token nothing is added, so the server's 401 starts the flow: WWW-Authenticate, protected
-- resource metadata, authorization server metadata (luaload.mcp.auth_discovery), a client identity
-- (luaload.mcp.auth_registration), then a luaload.oauth client for the token endpoint with the grant the script
-- chose: the authorization code grant with PKCE (luaload plays the user agent, luaload.oauth.authorize), client
-- credentials, or a JWT bearer assertion (RFC 7523; from an ID-JAG token exchange, RFC 8693, for enterprise-managed
-- authorization). Discovery is cached for the run, so later VUs ask for a token without the 401 first.
local ll = require("luaload")
local oauth = require("luaload.oauth")
local authorize = require("luaload.oauth.authorize")
local dpop_mod = require("luaload.oauth.dpop")
local discovery = require("luaload.mcp.auth_discovery")
local registration = require("luaload.mcp.auth_registration")
local new_error = require("luaload.mcp.errors").new

local type, pairs, ipairs, tostring, error, setmetatable = type, pairs, ipairs, tostring, error, setmetatable
local lower, gmatch, concat = string.lower, string.gmatch, table.concat

local M = {}

M.MAX_ATTEMPTS = 4   -- 401/403 answers handled for one request before it fails
M.MAX_STEP_UPS = 2   -- insufficient_scope step-ups for one request

M.ID_JAG = "urn:ietf:params:oauth:token-type:id-jag"
M.ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"

local flows = ll.metrics.Counter("mcp_auth_flows")

local GRANTS = { authorization_code = true, client_credentials = true, jwt_bearer = true }
local DPOP_ALGS = { "ES256", "RS256", "PS256" }

local Auth = {}
Auth.__index = Auth

local function check_opts(opts)
  if type(opts) ~= "table" then
    error("mcp: opts.auth must be a table (see docs/mcp-authorization.md)", 4)
  end
  local grant = opts.grant or "authorization_code"
  if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer" then
    grant = "jwt_bearer"
  end
  if not GRANTS[grant] then
    error("mcp: opts.auth.grant must be authorization_code, client_credentials or jwt_bearer (got "
      .. tostring(opts.grant) .. ")", 4)
  end
  if grant == "jwt_bearer" and opts.assertion == nil and type(opts.id_jag) ~= "table" then
    error("mcp: opts.auth.grant jwt_bearer needs assertion (a JWT or a function) or id_jag (a token exchange)", 4)
  end
  for _, name in ipairs({ "on_authorization" }) do
    if opts[name] ~= nil and type(opts[name]) ~= "function" then
      error("mcp: opts.auth." .. name .. " must be a function", 4)
    end
  end
  if opts.token ~= nil and type(opts.token) ~= "string" then
    error("mcp: opts.auth.token must be a string (a ready access token)", 4)
  end
  return grant
end

-- auth.new(opts.auth, { url = server_url, http = luaload.http or a look-alike }) -> the hooks object for one
-- session (the transport's call); auth.new(server_url, opts.auth) works too. Raises on a bad configuration.
function M.new(a, b)
  local opts, server_url, http_mod
  if type(a) == "table" then
    opts, server_url, http_mod = a, b and b.url, b and b.http
  else
    opts, server_url = b, a
  end
  local grant = check_opts(opts)
  if type(server_url) ~= "string" then
    error("mcp.auth.new: the server URL is missing", 2)
  end
  local self = setmetatable({ url = discovery.canonical(server_url), opts = opts, grant = grant, stepped = {},
    http = opts.http or http_mod or require("luaload.http") }, Auth)
  self.ctx = { http = self.http, timeout = opts.timeout, tags = opts.tags }
  return self
end

-- The authorization in use, without any I/O (the session's cache key for private results): the current access
-- token, or nil before there is one.
function Auth:context()
  if self.opts.token then
    return self.opts.token
  end
  return self.client and self.client.store.access_token or nil
end


---------------------------------------------------------------------------------------------------------------
-- Helpers

local function words(scope)
  local list, seen = {}, {}
  for w in gmatch(scope or "", "%S+") do
    if not seen[w] then
      list[#list + 1], seen[w] = w, true
    end
  end
  return list, seen
end

-- The union of two scope strings, the first one's order kept (nil when both are empty).
function M.scope_union(a, b)
  local list, seen = words(a)
  for _, w in ipairs((words(b))) do
    if not seen[w] then
      list[#list + 1], seen[w] = w, true
    end
  end
  return #list > 0 and concat(list, " ") or nil
end

function Auth:_error(req, text, cause, res)
  return new_error("auth", req and (req.mcp_method or req.method) or "auth", { message = text, cause = cause,
    status = res and res.status or nil, url = req and req.url })
end

local function tags_with(tags, extra)
  local out = {}
  for key, value in pairs(tags or {}) do
    out[key] = value
  end
  for key, value in pairs(extra) do
    out[key] = value
  end
  return out
end

local function pick_dpop_alg(supported)
  for _, alg in ipairs(DPOP_ALGS) do
    if registration.contains(supported, alg) then
      return alg
    end
  end
  return nil
end

-- The name of the token store (and DPoP key) of this session's client: per VU by default, so that the VU's next
-- sessions (a new mcp.connect every iteration) reuse its token instead of authorizing again; per worker with
-- opts.shared. Bound to the authorization server and the client it registered.
function Auth:_store_key(found, client_id)
  local owner = self.opts.shared and "worker" or ("vu " .. tostring(ll.vu and ll.vu.id))
  return concat({ "luaload.mcp.auth", owner, self.url, tostring(found.issuer), tostring(client_id), self.grant }, "\n")
end

local dpop_signers = {}

-- The DPoP signer when DPoP is on: opts.dpop true, or unset and the server asked for it (a DPoP challenge or
-- dpop_signing_alg_values_supported in the authorization server's metadata). Kept with the token it binds.
function Auth:_dpop_for(found, store_key)
  local alg = pick_dpop_alg(found.metadata.dpop_signing_alg_values_supported)
  local want = self.opts.dpop
  if want == nil then
    want = alg ~= nil or self.dpop_challenged == true
  end
  if not want then
    return nil
  end
  dpop_signers[store_key] = dpop_signers[store_key] or dpop_mod.new({ alg = alg or "ES256", key = self.opts.dpop_key,
    wall = self.opts.wall })
  return dpop_signers[store_key]
end

-- The scope of the first authorization: the script's, else the challenge's, else the protected resource's
-- scopes_supported, else none; plus offline_access when the authorization server lists it (so it may issue a
-- refresh token) and the script did not opt out.
function Auth:_select_scope(challenge, found)
  local scope = self.opts.scope or challenge.scope
  local prm_scopes = found.prm and found.prm.scopes_supported
  if scope == nil and type(prm_scopes) == "table" and #prm_scopes > 0 then
    scope = concat(prm_scopes, " ")
  end
  if self.grant == "authorization_code" and self.opts.offline_access ~= false
      and registration.contains(found.metadata.scopes_supported, "offline_access") then
    scope = M.scope_union(scope, "offline_access")
  end
  return scope
end

---------------------------------------------------------------------------------------------------------------
-- Building the token client

function Auth:_authorize_fn(found, client, config)
  local md, opts = found.metadata, self.opts
  return function(pkce)
    local info = { authorization_endpoint = md.authorization_endpoint, issuer = found.issuer,
      client_id = client.client_id, redirect_uri = config.redirect_uri, resource = config.resource,
      scope = config.scope }
    return authorize.run({ http = self.http, endpoint = md.authorization_endpoint, client_id = client.client_id,
      redirect_uri = config.redirect_uri, pkce = pkce, scope = config.scope, resource = config.resource,
      issuer = md.issuer, iss_supported = md.authorization_response_iss_parameter_supported,
      hook = opts.on_authorization, info = info, timeout = opts.timeout,
      tags = tags_with(opts.tags, { name = "oauth_authorize" }) })
  end
end

-- An ID-JAG (RFC 8693 token exchange at the identity provider) as the assertion of every login.
function Auth:_id_jag_fn(found)
  local idp = self.opts.id_jag
  local exchange = oauth.new({ token_url = idp.token_url, grant = "token_exchange", client_id = idp.client_id,
    client_secret = idp.client_secret, client_auth = idp.client_auth, subject_token = idp.subject_token,
    subject_token_type = idp.subject_token_type or M.ID_TOKEN, requested_token_type = M.ID_JAG,
    audience = found.issuer, resource = found.resource, scope = idp.scope, tags = self.opts.tags,
    timeout = self.opts.timeout, http = self.opts.http, now = self.opts.now, wall = self.opts.wall })
  return function()
    return exchange:login()
  end
end

function Auth:_assertion_fn(found)
  local assertion = self.opts.assertion
  if assertion == nil then
    return self:_id_jag_fn(found)
  end
  if type(assertion) ~= "function" then
    return assertion
  end
  local info = { issuer = found.issuer, resource = found.resource, token_endpoint = found.metadata.token_endpoint }
  return function()
    return assertion(info)
  end
end

local PASSED = { "private_key", "signing_alg", "key_id", "params", "tags", "timeout", "skew", "skew_s",
  "min_skew_s", "jitter", "max_lifetime", "http", "now", "wall", "random", "event" }

-- Registers (or reuses) a client with the authorization server of `found` and makes the token client.
function Auth:_setup(found, scope)
  local client, why = registration.client_for(self.ctx, found, tags_with(self.opts, { grant = self.grant }))
  if not client then
    return nil, why
  end
  local md = found.metadata
  local store_key = self:_store_key(found, client.client_id)
  local config = { token_url = md.token_endpoint, grant = self.grant, client_id = client.client_id,
    client_secret = client.client_secret, client_auth = registration.auth_method(self.opts, client, md),
    issuer = found.issuer, scope = scope, resource = self.opts.resource or found.resource,
    redirect_uri = self.opts.redirect_uri or registration.DEFAULT_REDIRECT_URI,
    dpop = self:_dpop_for(found, store_key), shared = true, shared_key = store_key }
  for _, name in ipairs(PASSED) do
    config[name] = self.opts[name]
  end
  if self.grant == "authorization_code" then
    config.authorize = self:_authorize_fn(found, client, config)
  elseif self.grant == "jwt_bearer" then
    config.assertion = self:_assertion_fn(found)
  end
  self.token_config, self.found, self.issuer, self.scope = config, found, found.issuer, scope
  self.client = oauth.new(config)
  return true
end

-- The discovery for this server: cached for the run; `fresh` (after a refused token) fetches it again to notice an
-- authorization server change. One fetch per worker at a time; the others wait for it.
function Auth:_discover(challenge, fresh)
  local key = "luaload.mcp.auth.discovery\n" .. self.url
  local cached = not fresh and discovery.cache_get(key)
  if cached and (challenge.resource_metadata == nil or cached.hint == challenge.resource_metadata) then
    return cached
  end
  return discovery.single_flight(key .. (fresh and "\nfresh" or ""), function()
    local found, why = discovery.discover(self.ctx, self.url, challenge.resource_metadata)
    if not found then
      return nil, why
    end
    found.hint = challenge.resource_metadata
    found.scope_hint = self:_select_scope(challenge, found)
    discovery.cache_set(key, found)
    return found
  end)
end

---------------------------------------------------------------------------------------------------------------
-- The hooks

local function set_header(headers, name, value)
  local lname = lower(name)
  for key in pairs(headers) do
    if type(key) == "string" and lower(key) == lname then
      headers[key] = nil
    end
  end
  headers[name] = value
end

function Auth:prepare(req)
  req.auth_challenge_expected = nil
  if self.opts.token then
    set_header(req.headers, "Authorization", "Bearer " .. self.opts.token)
    return true
  end
  if self.client == nil then
    local cached = discovery.cache_get("luaload.mcp.auth.discovery\n" .. self.url)
    if cached == nil then
      -- No token yet: the server's 401 starts the flow, a step of the protocol rather than a failed request.
      req.auth_challenge_expected = true
      return true
    end
    local ok, why = self:_setup(cached, cached.scope_hint)
    if not ok then
      return nil, self:_error(req, "mcp authorization: " .. tostring(why))
    end
  end
  local token, err = self.client:token()
  if not token then
    return nil, self:_error(req, "mcp authorization: no access token: " .. tostring(err), err)
  end
  for name, value in pairs(self.client:authorization_headers(req.method, req.url, token)) do
    set_header(req.headers, name, value)
  end
  req.auth_generation, req.auth_token_sent = self.client.store.generation, true
  return true
end

function Auth:_on_unauthorized(req, res, challenge)
  if self.opts.token then
    return nil, self:_error(req, "mcp authorization: the server refused auth.token", nil, res)
  end
  local reason = "initial"
  if req.auth_token_sent and self.client then
    self.client:count_expired_retry()
    local store = self.client.store
    if store.generation ~= req.auth_generation and store.access_token ~= nil then
      return true  -- renewed meanwhile by another request sharing the token
    end
    store.access_token, reason = nil, "expired"
  end
  local found, why = self:_discover(challenge, reason == "expired")
  if not found then
    return nil, self:_error(req, "mcp authorization: discovery failed: " .. tostring(why), nil, res)
  end
  if self.client and found.issuer == self.issuer then
    return true  -- same authorization server: prepare() renews (refresh token, else a new authorization)
  end
  local ok, serr = self:_setup(found, self.scope and M.scope_union(self.scope, challenge.scope) or found.scope_hint)
  if not ok then
    return nil, self:_error(req, "mcp authorization: " .. tostring(serr), nil, res)
  end
  flows:add(1, tags_with(self.opts.tags, { reason = reason == "expired" and "migration" or reason }))
  return true
end

function Auth:_on_forbidden(req, res, challenge)
  if challenge.error ~= "insufficient_scope" or self.client == nil then
    return nil, self:_error(req, "mcp authorization: HTTP 403" .. (challenge.error and " " .. challenge.error or ""),
      nil, res)
  end
  req.auth_step_ups = (req.auth_step_ups or 0) + 1
  local wanted = M.scope_union(self.scope, challenge.scope)
  if req.auth_step_ups > M.MAX_STEP_UPS or self.stepped[wanted or ""] then
    return nil, self:_error(req, "mcp authorization: insufficient_scope even with scope " .. tostring(wanted), nil,
      res)
  end
  self.stepped[wanted or ""] = true
  self.scope, self.token_config.scope = wanted, wanted
  flows:add(1, tags_with(self.opts.tags, { reason = "step_up" }))
  local token, err = self.client:login()
  if not token then
    return nil, self:_error(req, "mcp authorization: step-up to " .. tostring(wanted) .. " failed: " .. tostring(err),
      err, res)
  end
  return true
end

function Auth:on_response(req, res)
  req.auth_attempts = (req.auth_attempts or 0) + 1
  if req.auth_attempts > M.MAX_ATTEMPTS then
    return nil, self:_error(req, "mcp authorization: still HTTP " .. tostring(res.status) .. " after "
      .. M.MAX_ATTEMPTS .. " attempts", nil, res)
  end
  local challenge = discovery.challenge(res.headers and res.headers["WWW-Authenticate"])
  if challenge.scheme == "dpop" then
    self.dpop_challenged = true
  end
  local signer = self.client and self.client.dpop
  if signer and signer:remember_nonce(req.url, res.headers) and dpop_mod.is_nonce_challenge(res) then
    return true  -- RFC 9449 §9: the same request again, with the server's nonce in a fresh proof
  end
  if res.status == 403 then
    return self:_on_forbidden(req, res, challenge)
  end
  if res.status == 401 then
    return self:_on_unauthorized(req, res, challenge)
  end
  return nil, self:_error(req, "mcp authorization: unexpected HTTP " .. tostring(res.status), nil, res)
end

return M
