-- SPDX-License-Identifier: MIT
-- luaload.oauth.token_request: one request to a token endpoint (RFC 6749 §3.2): client authentication (§2.3,
-- RFC 7523 §2.2 assertions), scope, resource (RFC 8707), extra parameters, a DPoP proof (RFC 9449 §5) with one
-- retry on a use_dpop_nonce challenge, and the answer parsed into a token table or an error value. Nothing here
-- raises for what the server or the network does.
local encoding = require("luaload.encoding")
local crypto = require("luaload.crypto")
local jwt = require("luaload.oauth.jwt")
local dpop_mod = require("luaload.oauth.dpop")
local ll = require("luaload")

local type, pairs, tostring, pcall, setmetatable = type, pairs, tostring, pcall, setmetatable
local format, sub, gsub, lower = string.format, string.sub, string.gsub, string.lower

local M = {}

M.JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
M.TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
M.ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

-- Short names of the grants, as scripts write them, to their grant_type value.
M.GRANT_TYPES = {
  client_credentials = "client_credentials", password = "password", authorization_code = "authorization_code",
  refresh_token = "refresh_token", jwt_bearer = M.JWT_BEARER, token_exchange = M.TOKEN_EXCHANGE,
  [M.JWT_BEARER] = M.JWT_BEARER, [M.TOKEN_EXCHANGE] = M.TOKEN_EXCHANGE,
}

-- Client authentication methods (RFC 8414 / RFC 7591 names, plus the historical "basic" and "body").
M.CLIENT_AUTH = {
  basic = "client_secret_basic", client_secret_basic = "client_secret_basic",
  body = "client_secret_post", post = "client_secret_post", client_secret_post = "client_secret_post",
  none = "none", private_key_jwt = "private_key_jwt", client_secret_jwt = "client_secret_jwt",
}

---------------------------------------------------------------------------------------------------------------
-- Errors: tables {error, error_description, status, grant} that print as the message docs/oauth.md shows.

local Error = {}
Error.__index = Error

-- "oauth: token request failed: invalid_grant (refresh token expired) [grant refresh_token, HTTP 400]"
function M.format_error(err, grant)
  local text = "oauth: token request failed: " .. tostring(err.error)
  if err.error_description then
    text = text .. " (" .. err.error_description .. ")"
  end
  return text .. format(" [grant %s, HTTP %d]", grant or err.grant or "?", err.status or 0)
end

Error.__tostring = function(e) return e.message or M.format_error(e) end

-- Makes `fields` a printable oauth error.
function M.error(fields)
  return setmetatable(fields, Error)
end

local function token_type_ok(token_type, accepted)
  if token_type == nil then
    return true  -- tolerated, as most clients do
  end
  return type(token_type) == "string" and (accepted == "any" or accepted[lower(token_type)] == true)
end

-- The RFC 6749 §5.2 error of a failed token response: {error, error_description, status}, or nil for a success.
-- `accepted`: token types the caller can use (default { bearer = true }; "any" for token exchange, whose issued
-- tokens may be of type N_A).
function M.parse_error(res, accepted)
  if res.error ~= nil and res.error ~= "" and (res.status or 0) == 0 then
    return { error = "network_error", error_description = tostring(res.error), status = 0 }
  end
  local status = res.status or 0
  local ok, body = pcall(ll.json.decode, res.body or "")
  if status >= 200 and status < 300 and ok and type(body) == "table" and body.access_token then
    -- §7.1: a client MUST NOT use a token whose type it does not understand.
    if token_type_ok(body.token_type, accepted or { bearer = true }) then
      return nil
    end
    return { error = "invalid_response", error_description = "unsupported token_type " .. tostring(body.token_type)
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

---------------------------------------------------------------------------------------------------------------
-- Client authentication

-- RFC 7523 §3 client assertion: iss = sub = client_id, aud = the authorization server.
local function client_assertion(config, token_url, wall)
  local now = wall()
  local claims = { iss = config.client_id, sub = config.client_id, aud = config.assertion_audience
    or config.issuer or token_url, jti = encoding.base64url_encode(crypto.random_bytes(16)), iat = now,
    exp = now + (config.assertion_lifetime or 300) }
  if config.client_auth_method == "client_secret_jwt" then
    return jwt.sign(claims, config.client_secret or "", { alg = "HS256" })
  end
  return jwt.sign(claims, config.private_key, { alg = config.signing_alg or "ES256",
    header = config.key_id and { kid = config.key_id } or nil })
end

-- Adds the client's authentication to a token request's fields and headers.
function M.authenticate(config, fields, headers, token_url, wall)
  local method = config.client_auth_method
  if method == "client_secret_basic" then
    local pair = encoding.url_encode(config.client_id or "") .. ":" .. encoding.url_encode(config.client_secret or "")
    headers.Authorization = "Basic " .. encoding.base64_encode(pair)
  elseif method == "client_secret_post" then
    fields.client_id, fields.client_secret = config.client_id, config.client_secret
  elseif method == "private_key_jwt" or method == "client_secret_jwt" then
    fields.client_id = config.client_id
    fields.client_assertion_type = M.ASSERTION_TYPE
    fields.client_assertion = client_assertion(config, token_url, wall)
  elseif config.client_id ~= nil and fields.client_id == nil then
    fields.client_id = config.client_id  -- "none": a public client names itself (RFC 6749 §3.2.1)
  end
end

---------------------------------------------------------------------------------------------------------------
-- The request

-- The form, headers and tags of a token request for `grant` (a short name) with the grant's own `fields`.
function M.params(client, grant, fields)
  local config = client.config
  fields.grant_type = M.GRANT_TYPES[grant] or grant
  local headers = { Accept = "application/json" }
  M.authenticate(config, fields, headers, config.token_url, client.wall)
  -- A refresh keeps the granted scope (RFC 6749 §6); a code exchange's scope is the authorization request's.
  if config.scope ~= nil and fields.scope == nil and grant ~= "refresh_token" and grant ~= "authorization_code" then
    fields.scope = config.scope
  end
  if config.resource ~= nil and fields.resource == nil then
    fields.resource = config.resource
  end
  for key, value in pairs(config.params or {}) do
    if fields[key] == nil then
      fields[key] = value
    end
  end
  local tags = { name = "oauth_token", oauth_grant = grant }
  for key, value in pairs(config.tags or {}) do
    tags[key] = value
  end
  return { form = fields, headers = headers, tags = tags, timeout = config.timeout }
end

local function send(client, params)
  if client.dpop then
    params.headers.DPoP = client.dpop:proof("POST", client.config.token_url)
  end
  local res = client.http.post(client.config.token_url, nil, params)
  if client.dpop and res.headers then
    client.dpop:remember_nonce(client.config.token_url, res.headers)
  end
  return res
end

local function accepted_types(client, grant)
  if grant == "token_exchange" then
    return "any"
  end
  return client.dpop and { bearer = true, dpop = true } or { bearer = true }
end

-- POSTs a token request. Returns the decoded token response and the client-clock time the request was sent, or
-- nil and an oauth error (with .grant). A use_dpop_nonce challenge is answered once with the server's nonce.
function M.post(client, grant, fields)
  local started = client.now()
  local params = M.params(client, grant, fields)
  local res = send(client, params)
  if client.dpop and dpop_mod.is_nonce_challenge(res) and res.headers["DPoP-Nonce"] then
    started = client.now()
    params = M.params(client, grant, fields)  -- a fresh client assertion: its jti must not repeat
    res = send(client, params)
  end
  local err = M.parse_error(res, accepted_types(client, grant))
  if err then
    err.grant = grant
    return nil, M.error(err)
  end
  return ll.json.decode(res.body), started
end

return M
