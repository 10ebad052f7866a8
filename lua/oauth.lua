-- SPDX-License-Identifier: MIT
-- The `luaload.oauth` module: a per-VU OAuth 2.0 (RFC 6749) token manager with PKCE (RFC 7636). docs/oauth.md.
--
-- A client caches one access token, refreshes it before it expires (with the refresh token when it has one, else
-- by logging in again with its grant), refreshes once and retries when a resource answers 401, and raises token
-- endpoint errors (RFC 6749 §5.2) as "oauth: token request failed: <error> (<error_description>)". Create one per
-- VU (in the script's init code: every VU runs it with its own globals); tokens are fetched lazily, on first use.
local http = require("luaload.http")
local encoding = require("luaload.encoding")
local crypto = require("luaload.crypto")
local ll = require("luaload")

local type, pairs, tostring, tonumber, error, pcall, setmetatable = type, pairs, tostring, tonumber, error, pcall,
  setmetatable
local huge = math.huge
local format, sub, match, find, gsub, lower = string.format, string.sub, string.match, string.find, string.gsub,
  string.lower
local min = math.min

local M = {}

local GRANTS = {
  client_credentials = true, password = true, authorization_code = true, refresh_token = true,
}

-- Counters shared by every client of this worker (defined on first require, so they exist only in scripts that
-- use the module).
local refreshes = ll.metrics.Counter("oauth_token_refreshes")
local logins = ll.metrics.Counter("oauth_logins")

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
-- Token endpoint responses

-- The RFC 6749 §5.2 error of a failed token response: {error, error_description, status}, or nil if `res` is a
-- success. A body that is not an OAuth error still yields a table (error "http_<status>", or the network error).
function M.parse_error(res)
  if res.error ~= nil and res.error ~= "" and (res.status or 0) == 0 then
    return { error = "network_error", error_description = tostring(res.error), status = 0 }
  end
  local status = res.status or 0
  local ok, body = pcall(ll.json.decode, res.body or "")
  if status >= 200 and status < 300 and ok and type(body) == "table" and body.access_token then
    -- §7.1: a client MUST NOT use a token whose type it does not understand; this one only sends Bearer tokens
    -- (RFC 6750). The type is case-insensitive (§5.1); a missing one is tolerated, as most clients do.
    local token_type = body.token_type
    if token_type == nil or (type(token_type) == "string" and lower(token_type) == "bearer") then
      return nil
    end
    return { error = "invalid_response", error_description = "unsupported token_type " .. tostring(token_type)
      .. " (only Bearer tokens can be used)", status = status }
  end
  if ok and type(body) == "table" and type(body.error) == "string" then
    local description = body.error_description
    return { error = body.error, error_description = type(description) == "string" and description or nil,
             status = status }
  end
  if status >= 200 and status < 300 then
    return { error = "invalid_response", error_description = "no access_token in the token response",
             status = status }
  end
  local text = gsub(sub(tostring(res.body or ""), 1, 100), "%s+", " ")
  return { error = "http_" .. status, error_description = text ~= "" and text or nil, status = status }
end

-- "oauth: token request failed: invalid_grant (refresh token expired)"
function M.format_error(err, grant)
  local text = "oauth: token request failed: " .. err.error
  if err.error_description then
    text = text .. " (" .. err.error_description .. ")"
  end
  return text .. format(" [grant %s, HTTP %d]", grant or "?", err.status or 0)
end

---------------------------------------------------------------------------------------------------------------
-- Expiry: pure functions of the clock, so they can be tested with an injected one.

-- When a token obtained at `obtained_ms`, valid `lifetime_s` seconds, should be renewed: `skew` before its end,
-- where skew is a fraction of the lifetime (0.1 = 10 %) unless `skew_s` (seconds) is given. A token with no
-- lifetime never expires by the clock (only a 401 renews it).
function M.refresh_at(obtained_ms, lifetime_s, skew, skew_s)
  if lifetime_s == nil then
    return huge
  end
  local lifetime_ms = lifetime_s * 1000
  local skew_ms = skew_s and skew_s * 1000 or lifetime_ms * (skew or 0.1)
  return obtained_ms + lifetime_ms - min(skew_ms, lifetime_ms)
end

---------------------------------------------------------------------------------------------------------------
-- The client

local Client = {}
Client.__index = Client

local function check_config(config)
  if type(config) ~= "table" then
    error("oauth.new: expects a table of options", 3)
  end
  if type(config.token_url) ~= "string" then
    error("oauth.new: token_url must be a string", 3)
  end
  local grant = config.grant or "client_credentials"
  if not GRANTS[grant] or grant == "refresh_token" then
    error("oauth.new: grant must be client_credentials, password or authorization_code (got " .. tostring(grant)
      .. ")", 3)
  end
  if grant == "password" and (type(config.username) ~= "string" or type(config.password) ~= "string") then
    error("oauth.new: the password grant needs username and password", 3)
  end
  if grant == "authorization_code" and type(config.authorize) ~= "function"
      and type(config.authorize_url) ~= "string" then
    error("oauth.new: the authorization_code grant needs authorize_url or an authorize(pkce, client) function", 3)
  end
  if config.authorize_url ~= nil and type(config.redirect_uri) ~= "string" then
    error("oauth.new: authorize_url needs redirect_uri (the URI the authorization server redirects to)", 3)
  end
  local auth = config.client_auth or "basic"
  if auth ~= "basic" and auth ~= "body" then
    error("oauth.new: client_auth must be \"basic\" or \"body\"", 3)
  end
  local skew = config.skew
  if skew ~= nil and (type(skew) ~= "number" or skew < 0 or skew >= 1) then
    error("oauth.new: skew is a fraction of the token lifetime, 0 <= skew < 1 (default 0.1)", 3)
  end
end

-- oauth.new(config) -> client. See docs/oauth.md for every option.
function M.new(config)
  check_config(config)
  local self = setmetatable({}, Client)
  self.config = config
  self.grant = config.grant or "client_credentials"
  self.http = config.http or http
  self.now = config.now or ll.now
  self.access_token = nil
  self.refresh_token = nil
  self.expires_at = nil   -- ms on self.now()'s clock when the server says the token ends (nil: unknown)
  self.renew_at = nil     -- ms when token() renews it
  return self
end

-- Form fields and headers of a token request: client authentication (§2.3.1) and scope added.
function Client:_token_params(grant, fields)
  local config = self.config
  local headers = { Accept = "application/json" }
  if (config.client_auth or "basic") == "basic" then
    local pair = encoding.url_encode(config.client_id or "") .. ":" .. encoding.url_encode(config.client_secret or "")
    headers.Authorization = "Basic " .. encoding.base64_encode(pair)
  else
    fields.client_id = config.client_id
    fields.client_secret = config.client_secret
  end
  if config.scope ~= nil and fields.scope == nil and grant ~= "refresh_token" then
    fields.scope = config.scope
  end
  local tags = { name = "oauth_token", oauth_grant = grant }
  for key, value in pairs(config.tags or {}) do
    tags[key] = value
  end
  return { form = fields, headers = headers, tags = tags, timeout = config.timeout }
end

-- Stores a successful token response obtained by a request started at `started_ms` that asked for
-- `requested_scope` (nil: none asked).
function Client:_store(body, started_ms, requested_scope)
  self.access_token = body.access_token
  if type(body.refresh_token) == "string" and body.refresh_token ~= "" then
    self.refresh_token = body.refresh_token  -- rotation: the new one replaces the old (RFC 6749 §6)
  end
  local lifetime = tonumber(body.expires_in)
  local cap = self.config.max_lifetime
  if cap ~= nil then
    lifetime = lifetime and min(lifetime, cap) or cap
  end
  self.expires_at = lifetime and started_ms + lifetime * 1000 or nil
  self.renew_at = M.refresh_at(started_ms, lifetime, self.config.skew, self.config.skew_s)
  -- §5.1: an answer without scope grants the requested one; §6: a refresh that asks for none keeps the granted one.
  self.scope = body.scope or requested_scope or self.scope
end

-- POSTs a token request; returns true, or false and the error table (nothing is raised here).
function Client:_token_request(grant, fields)
  fields.grant_type = grant
  local started = self.now()
  local params = self:_token_params(grant, fields)
  local res = self.http.post(self.config.token_url, nil, params)
  local err = M.parse_error(res)
  if err then
    return false, err
  end
  self:_store(ll.json.decode(res.body), started, params.form.scope)
  return true
end


-- Drives an authorization endpoint that redirects straight back (the built-in target's GET /oauth/authorize):
-- returns the code from the Location header, after checking the state parameter.
function Client:_authorize_redirect(pkce)
  local config = self.config
  local state = encoding.base64url_encode(crypto.random_bytes(12))
  local query = encoding.form_encode({
    response_type = "code", client_id = config.client_id, redirect_uri = config.redirect_uri,
    code_challenge = pkce.challenge, code_challenge_method = pkce.method, scope = config.scope, state = state,
  })
  local sep = find(config.authorize_url, "?", 1, true) and "&" or "?"
  local res = self.http.get(config.authorize_url .. sep .. query,
    { redirects = 0, tags = { name = "oauth_authorize" }, timeout = config.timeout })
  local location = res.headers and res.headers["Location"]
  if res.status ~= 302 and res.status ~= 303 or type(location) ~= "string" then
    local err = M.parse_error(res)
    error(format("oauth: authorization request failed: %s%s [HTTP %d]", err.error,
      err.error_description and " (" .. err.error_description .. ")" or "", res.status or 0), 0)
  end
  local params = encoding.form_decode(match(location, "%?(.*)$") or "")
  if params.error then
    error(format("oauth: authorization request failed: %s%s", params.error,
      params.error_description and " (" .. params.error_description .. ")" or ""), 0)
  end
  if params.state ~= state then
    error("oauth: authorization request failed: the redirect's state does not match the request", 0)
  end
  if type(params.code) ~= "string" then
    error("oauth: authorization request failed: no code in the redirect " .. location, 0)
  end
  return params.code
end

-- The grant-specific fields of a login.
function Client:_login_fields()
  local config = self.config
  if self.grant == "password" then
    return { username = config.username, password = config.password }
  elseif self.grant == "authorization_code" then
    local pkce = M.pkce()
    local code, redirect_uri
    if config.authorize then
      code, redirect_uri = config.authorize(pkce, self)
    else
      code = self:_authorize_redirect(pkce)
    end
    if type(code) ~= "string" then
      error("oauth: authorize() must return the authorization code (a string)", 0)
    end
    return { code = code, code_verifier = pkce.verifier, redirect_uri = redirect_uri or config.redirect_uri }
  end
  return {}
end

-- Authenticates with the configured grant (always a new token request). Raises on an OAuth error.
function Client:login()
  local ok, err = self:_token_request(self.grant, self:_login_fields())
  if not ok then
    error(M.format_error(err, self.grant), 0)
  end
  logins:add(1, { oauth_grant = self.grant })
  return self.access_token
end

-- Renews the access token now: with the refresh token when there is one (a rejected one, invalid_grant, is
-- dropped and the client logs in again), else by logging in. Raises on any other OAuth error.
function Client:refresh()
  if self.refresh_token == nil then
    return self:login()
  end
  local ok, err = self:_token_request("refresh_token", { refresh_token = self.refresh_token })
  if ok then
    refreshes:add(1)
    return self.access_token
  end
  if err.error ~= "invalid_grant" then
    error(M.format_error(err, "refresh_token"), 0)
  end
  self.refresh_token = nil
  return self:login()
end

-- The access token, renewed first if it is missing or due.
function Client:token()
  if self.access_token ~= nil and self.now() < self.renew_at then
    return self.access_token
  end
  if self.access_token == nil and self.refresh_token == nil then
    return self:login()
  end
  return self:refresh()
end

-- Forgets the access token (the refresh token is kept): the next token() renews it.
function Client:invalidate()
  self.access_token = nil
end

-- A copy of params with the bearer token in its headers.
local function with_bearer(params, token)
  local copy, headers = {}, {}
  for key, value in pairs(params or {}) do
    copy[key] = value
  end
  for key, value in pairs(copy.headers or {}) do
    headers[key] = value
  end
  headers.Authorization = "Bearer " .. token
  copy.headers = headers
  return copy
end

-- http.request with the bearer token; on a 401 the token is renewed once and the request retried.
function Client:request(method, url, body, params)
  if params ~= nil and type(params) ~= "table" then
    error("client:request: params must be a table", 2)
  end
  local res = self.http.request(method, url, body, with_bearer(params, self:token()))
  if res.status == 401 then
    res = self.http.request(method, url, body, with_bearer(params, self:refresh()))
  end
  return res
end

function Client:get(url, params) return self:request("GET", url, nil, params) end
function Client:post(url, body, params) return self:request("POST", url, body, params) end
function Client:put(url, body, params) return self:request("PUT", url, body, params) end
function Client:patch(url, body, params) return self:request("PATCH", url, body, params) end
function Client:del(url, body, params) return self:request("DELETE", url, body, params) end

return M
