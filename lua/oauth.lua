-- SPDX-License-Identifier: MIT
-- The `luaload.oauth` module: an OAuth 2.0 (RFC 6749) token manager with PKCE (RFC 7636). docs/oauth.md.
--
-- A client caches an access token and renews it before it really expires (the JWT `exp` when the token is a JWT,
-- else expires_in; a margin with a floor in seconds; per-token jitter), with the refresh token when it has one,
-- else by logging in again. A renewal that fails while the token is still valid is retried with backoff and the
-- token kept. A 401 from a resource renews once and retries (counted in oauth_expired_token_retries).
-- Token-endpoint and network failures are returned as nil, err; misuse raises. One store per client (per VU) by
-- default, or one single-flight store per worker with `shared = true`.
local http = require("luaload.http")
local encoding = require("luaload.encoding")
local crypto = require("luaload.crypto")
local ll = require("luaload")
local expiry = require("luaload.oauth.expiry")
local request_mod = require("luaload.oauth.token_request")
local authorize = require("luaload.oauth.authorize")
local store_mod = require("luaload.oauth.store")
local dpop_mod = require("luaload.oauth.dpop")

local type, pairs, ipairs, tostring, tonumber, error = type, pairs, ipairs, tostring, tonumber, error
local setmetatable, rawget, rawset = setmetatable, rawget, rawset
local find, lower, concat = string.find, string.lower, table.concat
local random = math.random

local M = {}

-- Counters shared by every client of this worker (defined on first require, so they exist only in scripts that
-- use the module).
local refreshes = ll.metrics.Counter("oauth_token_refreshes")
local logins = ll.metrics.Counter("oauth_logins")
local expired_retries = ll.metrics.Counter("oauth_expired_token_retries")

M.parse_error = request_mod.parse_error
M.format_error = request_mod.format_error
M.jwt = require("luaload.oauth.jwt")
M.dpop = dpop_mod.new

---------------------------------------------------------------------------------------------------------------
-- PKCE (RFC 7636)

-- The S256 challenge of a verifier: BASE64URL(SHA256(verifier)), no padding.
function M.pkce_challenge(verifier)
  if type(verifier) ~= "string" then
    error("oauth.pkce_challenge: verifier must be a string", 2)
  end
  return encoding.base64url_encode(crypto.sha256(verifier, "raw"))
end

-- A fresh verifier (32 random bytes -> 43 base64url characters, §4.1) with its S256 challenge.
function M.pkce(verifier)
  verifier = verifier or encoding.base64url_encode(crypto.random_bytes(32))
  if #verifier < 43 or #verifier > 128 or find(verifier, "[^%w%-%._~]") then
    error("oauth.pkce: a verifier is 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)", 2)
  end
  return { verifier = verifier, challenge = M.pkce_challenge(verifier), method = "S256" }
end

---------------------------------------------------------------------------------------------------------------
-- Renewal rules (luaload.oauth.expiry), exported for scripts and tests.

-- When a token obtained at `obtained_ms`, valid `lifetime_s` seconds, is renewed (no jitter): skew is a fraction of
-- the lifetime (default 0.1) with a 2 s floor capped at half the lifetime, unless skew_s (seconds) fixes it.
function M.refresh_at(obtained_ms, lifetime_s, skew, skew_s)
  if lifetime_s == nil then
    return math.huge
  end
  return expiry.renew_at(obtained_ms, obtained_ms + lifetime_s * 1000, { skew = skew, skew_s = skew_s, jitter = 0 })
end

M.expiry = expiry

---------------------------------------------------------------------------------------------------------------
-- Configuration

local Client = {}

-- Fields of the store that scripts read (and tests set) on the client itself.
local STORE_FIELDS = { access_token = true, refresh_token = true, expires_at = true, renew_at = true, scope = true,
  token_type = true, obtained_at = true }

Client.__index = function(client, key)
  local method = Client[key]
  if method ~= nil then
    return method
  end
  if STORE_FIELDS[key] then
    return rawget(client, "store")[key]
  end
  return nil
end

Client.__newindex = function(client, key, value)
  if STORE_FIELDS[key] then
    rawget(client, "store")[key] = value
  else
    rawset(client, key, value)
  end
end

local function default_client_auth(config)
  if config.private_key ~= nil then
    return "private_key_jwt"
  end
  return config.client_secret ~= nil and "client_secret_basic" or "none"
end

local function check_grant(config, grant)
  if grant == "password" and (type(config.username) ~= "string" or type(config.password) ~= "string") then
    error("oauth.new: the password grant needs username and password", 4)
  end
  if grant == "authorization_code" and type(config.authorize) ~= "function"
      and type(config.authorize_url) ~= "string" then
    error("oauth.new: the authorization_code grant needs authorize_url or an authorize(pkce, client) function", 4)
  end
  if config.authorize_url ~= nil and type(config.redirect_uri) ~= "string" then
    error("oauth.new: authorize_url needs redirect_uri (the URI the authorization server redirects to)", 4)
  end
  if grant == "jwt_bearer" and config.assertion == nil then
    error("oauth.new: the jwt_bearer grant needs assertion (a JWT string or a function returning one)", 4)
  end
  if grant == "token_exchange" and config.subject_token == nil then
    error("oauth.new: the token_exchange grant needs subject_token (a string or a function returning one)", 4)
  end
end

local function check_numbers(config)
  local skew = config.skew
  if skew ~= nil and (type(skew) ~= "number" or skew < 0 or skew >= 1) then
    error("oauth.new: skew is a fraction of the token lifetime, 0 <= skew < 1 (default 0.1)", 4)
  end
  local jitter = config.jitter
  if jitter ~= nil and (type(jitter) ~= "number" or jitter < 0 or jitter > 0.5) then
    error("oauth.new: jitter is a fraction of the token lifetime, 0 <= jitter <= 0.5 (default 0.1)", 4)
  end
  for _, name in ipairs({ "skew_s", "min_skew_s", "max_lifetime" }) do
    if config[name] ~= nil and (type(config[name]) ~= "number" or config[name] < 0) then
      error("oauth.new: " .. name .. " must be a number of seconds >= 0", 4)
    end
  end
end

-- Returns the normalised grant (short name) and client authentication method; raises on misuse.
local function check_config(config)
  if type(config) ~= "table" then
    error("oauth.new: expects a table of options", 3)
  end
  if type(config.token_url) ~= "string" then
    error("oauth.new: token_url must be a string", 3)
  end
  local grant = config.grant or "client_credentials"
  grant = grant == request_mod.JWT_BEARER and "jwt_bearer" or grant == request_mod.TOKEN_EXCHANGE
    and "token_exchange" or grant
  if not request_mod.GRANT_TYPES[grant] or grant == "refresh_token" then
    error("oauth.new: grant must be client_credentials, password, authorization_code, jwt_bearer or "
      .. "token_exchange (got " .. tostring(config.grant) .. ")", 3)
  end
  check_grant(config, grant)
  local auth = request_mod.CLIENT_AUTH[config.client_auth or default_client_auth(config)]
  if auth == nil then
    error("oauth.new: client_auth must be client_secret_basic (\"basic\"), client_secret_post (\"body\"), none, "
      .. "private_key_jwt or client_secret_jwt", 3)
  end
  if auth == "private_key_jwt" and config.private_key == nil then
    error("oauth.new: client_auth private_key_jwt needs private_key (a PEM string or a luaload.crypto key)", 3)
  end
  check_numbers(config)
  return grant, auth
end

local function shared_key(config, grant)
  if config.shared_key ~= nil then
    return tostring(config.shared_key)
  end
  local parts = { config.token_url, grant, config.client_id or "", config.scope or "", config.username or "",
    type(config.resource) == "table" and concat(config.resource, " ") or config.resource or "", config.audience or "" }
  return concat(parts, "\n")
end

local function copy_tags(tags, extra)
  local out = {}
  for key, value in pairs(tags or {}) do
    out[key] = value
  end
  for key, value in pairs(extra or {}) do
    out[key] = value
  end
  return out
end

-- oauth.new(config) -> client. See docs/oauth.md for every option.
function M.new(config)
  local grant, auth = check_config(config)
  local settings = setmetatable({ client_auth_method = auth }, { __index = config })
  local self = setmetatable({
    config = settings, grant = grant, http = config.http or http, now = config.now or ll.now,
    wall = config.wall or os.time, random = config.random or random,
    store = config.shared and store_mod.shared(shared_key(config, grant)) or store_mod.new(),
    wait_s = type(config.timeout) == "number" and config.timeout > 0 and config.timeout or 60,
  }, Client)
  if config.dpop == true then
    self.dpop = dpop_mod.new({ wall = self.wall })
  elseif type(config.dpop) == "table" then
    self.dpop = config.dpop
  end
  return self
end

---------------------------------------------------------------------------------------------------------------
-- Token requests

-- Stores a successful token response of a request sent at `started_ms` that asked for `requested_scope`.
function Client:_store(body, started_ms, requested_scope)
  local s, config = self.store, self.config
  s.access_token = body.access_token
  s.token_type = lower(type(body.token_type) == "string" and body.token_type or "bearer")
  if type(body.refresh_token) == "string" and body.refresh_token ~= "" then
    s.refresh_token = body.refresh_token  -- rotation: the new one replaces the old (RFC 6749 §6)
  end
  s.issued_token_type = body.issued_token_type
  s.obtained_at = started_ms
  s.expires_at = expiry.expires_at(started_ms, tonumber(body.expires_in), expiry.jwt_exp(body.access_token),
    self.now(), self.wall(), config.max_lifetime)
  s.renew_at = expiry.renew_at(started_ms, s.expires_at, config, self.random)
  -- §5.1: an answer without scope grants the requested one; §6: a refresh that asks for none keeps the granted one.
  s.scope = body.scope or requested_scope or s.scope
  s.failures, s.retry_at = 0, nil
  s.generation = s.generation + 1
end

local function value_of(v, client)
  if type(v) == "function" then
    return v(client)
  end
  return v
end

function Client:_authorization_code_fields()
  local config = self.config
  local pkce = M.pkce()
  local code, redirect_uri
  if config.authorize then
    code, redirect_uri = config.authorize(pkce, self)
  else
    code, redirect_uri = authorize.run({ http = self.http, endpoint = config.authorize_url,
      client_id = config.client_id, redirect_uri = config.redirect_uri, pkce = pkce, scope = config.scope,
      resource = config.resource, issuer = config.issuer, iss_supported = config.iss_parameter_supported,
      timeout = config.timeout, tags = copy_tags(config.tags, { name = "oauth_authorize" }) })
  end
  if type(code) ~= "string" then
    if code == nil and redirect_uri ~= nil then
      return nil, redirect_uri  -- the error of the authorization step
    end
    error("oauth: authorize() must return the authorization code (a string)", 0)
  end
  return { code = code, code_verifier = pkce.verifier, redirect_uri = redirect_uri or config.redirect_uri }
end

-- The grant-specific fields of a login, or nil, err.
function Client:_login_fields()
  local config, grant = self.config, self.grant
  if grant == "password" then
    return { username = config.username, password = config.password }
  elseif grant == "authorization_code" then
    return self:_authorization_code_fields()
  elseif grant == "jwt_bearer" then
    local assertion, err = value_of(config.assertion, self)
    if type(assertion) ~= "string" then
      return nil, err or request_mod.error({ error = "invalid_assertion", message = "oauth: no assertion for the "
        .. "jwt_bearer grant" })
    end
    return { assertion = assertion }
  elseif grant == "token_exchange" then
    local subject, err = value_of(config.subject_token, self)
    if type(subject) ~= "string" then
      return nil, err
    end
    return { subject_token = subject, subject_token_type = config.subject_token_type
      or "urn:ietf:params:oauth:token-type:access_token", requested_token_type = config.requested_token_type,
      audience = config.audience, actor_token = value_of(config.actor_token, self),
      actor_token_type = config.actor_token_type }
  end
  return {}
end

function Client:_login()
  local fields, ferr = self:_login_fields()
  if not fields then
    return nil, ferr
  end
  local body, started = request_mod.post(self, self.grant, fields)
  if not body then
    return nil, started
  end
  self:_store(body, started, fields.scope or self.config.scope)
  logins:add(1, copy_tags(self.config.tags, { oauth_grant = self.grant }))
  return self.store.access_token
end

-- Renews now: the refresh token when there is one (a rejected one, invalid_grant, is dropped and the client logs
-- in again), else a login.
function Client:_renew_now(login_only)
  local s = self.store
  if login_only or s.refresh_token == nil then
    return self:_login()
  end
  local body, started = request_mod.post(self, "refresh_token", { refresh_token = s.refresh_token })
  if body then
    self:_store(body, started, nil)
    refreshes:add(1, copy_tags(self.config.tags, { oauth_grant = "refresh_token" }))
    return s.access_token
  end
  if started.error ~= "invalid_grant" then
    return nil, started
  end
  s.refresh_token = nil
  return self:_login()
end

-- One renewal through the store's single flight. A caller that finds a fetch in flight waits and takes its
-- result, success or failure, instead of sending a request of its own.
function Client:_renew(login_only)
  local s = self.store
  if s.fetching then
    local seq = s.fetch_seq or 0
    store_mod.wait(s, self.now(), self.wait_s)
    if (s.fetch_seq or 0) > seq then
      if s.last_err == nil and s.access_token ~= nil then
        return s.access_token
      end
      return nil, s.last_err
    end
  end
  return store_mod.single_flight(s, self.now(), self.config.event, function()
    return self:_renew_now(login_only)
  end)
end

---------------------------------------------------------------------------------------------------------------
-- Public methods

-- A new token request with the configured grant, always. Returns the access token, or nil, err.
function Client:login()
  return self:_renew(true)
end

-- Renews now (refresh token, else login). Returns the access token, or nil, err.
function Client:refresh()
  return self:_renew(false)
end

local function valid(s, now)
  return s.access_token ~= nil and (s.expires_at == nil or now < s.expires_at)
end

-- A token that is due but still valid: renew unless a renewal is in flight or backing off; a failure keeps the
-- token and schedules the next attempt.
function Client:_renew_ahead()
  local s = self.store
  local now = self.now()
  if s.fetching or (s.retry_at and now < s.retry_at) then
    return s.access_token
  end
  local token, err = self:_renew(false)
  if token then
    return token
  end
  s.failures = s.failures + 1
  s.retry_at = expiry.retry_at(self.now(), s.failures, self.config)
  if valid(s, self.now()) then
    return s.access_token
  end
  return nil, err
end

-- The access token, obtained or renewed first when it is missing or due. Returns the token, or nil, err.
function Client:token()
  local s = self.store
  for _ = 1, 3 do
    local now = self.now()
    if s.access_token ~= nil and now < s.renew_at then
      return s.access_token
    end
    if valid(s, now) then
      return self:_renew_ahead()
    end
    if not s.fetching then
      return self:_renew(false)
    end
    store_mod.wait(s, now, self.wait_s)
  end
  return nil, request_mod.error({ error = "timeout",
    message = "oauth: gave up waiting for another VU's token request" })
end

-- Forgets the access token (the refresh token is kept): the next token() renews it.
function Client:invalidate()
  self.store.access_token = nil
end

-- The Authorization (and DPoP) headers for a request with `token`.
function Client:authorization_headers(method, url, token)
  local s = self.store
  if self.dpop and s.token_type == "dpop" then
    return { Authorization = "DPoP " .. token, DPoP = self.dpop:proof(method, url, token) }
  end
  return { Authorization = "Bearer " .. token }
end

local function with_auth(client, params, token, method, url)
  local copy, headers = {}, {}
  for key, value in pairs(params or {}) do
    copy[key] = value
  end
  for key, value in pairs(copy.headers or {}) do
    headers[key] = value
  end
  for key, value in pairs(client:authorization_headers(method, url, token)) do
    headers[key] = value
  end
  copy.headers = headers
  return copy
end

-- After a 401 on a request made with the token of `generation`: the token is not valid whatever the clock says.
function Client:_after_401(generation)
  local s = self.store
  if s.generation ~= generation and s.access_token ~= nil then
    return s.access_token  -- another VU sharing the store already renewed it
  end
  s.access_token = nil
  return self:_renew(false)
end

function Client:_send(method, url, body, params, token)
  local res = self.http.request(method, url, body, with_auth(self, params, token, method, url))
  if self.dpop and res.headers and self.dpop:remember_nonce(url, res.headers) and dpop_mod.is_nonce_challenge(res) then
    res = self.http.request(method, url, body, with_auth(self, params, token, method, url))
  end
  return res
end

-- http.request with the access token; on a 401 the token is renewed once and the request retried. Returns the
-- last response; nil, err when no token could be obtained (the 401 response and err when the renewal after it
-- failed).
function Client:request(method, url, body, params)
  if params ~= nil and type(params) ~= "table" then
    error("client:request: params must be a table", 2)
  end
  local token, err = self:token()
  if not token then
    return nil, err
  end
  local generation = self.store.generation
  local res = self:_send(method, url, body, params, token)
  if res.status ~= 401 then
    return res
  end
  expired_retries:add(1, copy_tags(self.config.tags))
  token, err = self:_after_401(generation)
  if not token then
    return res, err
  end
  return self:_send(method, url, body, params, token)
end

function Client:get(url, params) return self:request("GET", url, nil, params) end
function Client:post(url, body, params) return self:request("POST", url, body, params) end
function Client:put(url, body, params) return self:request("PUT", url, body, params) end
function Client:patch(url, body, params) return self:request("PATCH", url, body, params) end
function Client:del(url, body, params) return self:request("DELETE", url, body, params) end

-- Counts one 401 answer to a token this client believed valid (callers that send requests themselves: MCP).
function Client:count_expired_retry(tags)
  expired_retries:add(1, copy_tags(self.config.tags, tags))
end

return M
