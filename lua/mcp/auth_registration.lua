-- SPDX-License-Identifier: MIT
-- luaload.mcp.auth_registration: the client identity luaload presents to an authorization server, in MCP's
-- priority order: pre-registered credentials (the script's client_id), a Client ID Metadata Document (a URL as
-- client_id, when the server advertises client_id_metadata_document_supported), else Dynamic Client
-- Registration (RFC 7591, with application_type). Registrations are bound to the issuer that made them: a new
-- authorization server means a new registration, never the old credentials. DCR results are shared by the
-- whole run (one registration per issuer and client metadata, not one per VU) unless the script asks otherwise.
local ll = require("luaload")
local discovery = require("luaload.mcp.auth_discovery")
local jwt = require("luaload.oauth.jwt")

local type, pairs, ipairs, tostring, pcall = type, pairs, ipairs, tostring, pcall
local match = string.match
local json = ll.json

local M = {}

M.DEFAULT_REDIRECT_URI = "http://localhost/luaload/callback"

local function contains(list, value)
  for _, v in ipairs(type(list) == "table" and list or {}) do
    if v == value then
      return true
    end
  end
  return false
end

-- "native" for loopback redirect URIs (CLI tools and local apps), "web" otherwise (OIDC Registration §2).
function M.application_type(redirect_uri)
  local host = match(redirect_uri or "", "^%a[%w+.-]*://%[?([^/:%]]+)")
  if host == "localhost" or host == "127.0.0.1" or host == "::1" then
    return "native"
  end
  return "web"
end

-- The token endpoint authentication method for a client: the script's choice, else the registration's (when the
-- server supports it), else client_secret_basic / client_secret_post / none by what the server lists (RFC 8414 §2:
-- client_secret_basic when it lists nothing).
function M.auth_method(opts, client, metadata)
  if opts.client_auth then
    return opts.client_auth
  end
  if opts.private_key then
    return "private_key_jwt"
  end
  local supported = type(metadata.token_endpoint_auth_methods_supported) == "table"
    and metadata.token_endpoint_auth_methods_supported or {}
  local hint = client.token_endpoint_auth_method
  if type(hint) == "string" and (#supported == 0 or contains(supported, hint)) then
    return hint
  end
  local secret = client.client_secret ~= nil
  if #supported == 0 then
    return secret and "client_secret_basic" or "none"
  end
  if secret and contains(supported, "client_secret_basic") then
    return "client_secret_basic"
  end
  if secret and contains(supported, "client_secret_post") then
    return "client_secret_post"
  end
  return "none"
end

-- The grant types luaload registers for a grant (refresh_token with the authorization code grant, so that an
-- authorization server may issue refresh tokens).
local function grant_types(grant)
  if grant == "authorization_code" then
    return { "authorization_code", "refresh_token" }
  end
  return { grant }
end

-- The RFC 7591 client metadata luaload registers.
function M.client_metadata(opts, metadata)
  local redirect_uri = opts.redirect_uri or M.DEFAULT_REDIRECT_URI
  local grant = opts.grant or "authorization_code"
  local body = { client_name = opts.client_name or "luaload", redirect_uris = { redirect_uri },
    grant_types = grant_types(grant), response_types = grant == "authorization_code" and { "code" } or {},
    application_type = opts.application_type or M.application_type(redirect_uri) }
  local supported = metadata.token_endpoint_auth_methods_supported
  if opts.private_key and not opts.client_auth then
    -- private_key_jwt: the server verifies assertions with the public half, registered inline (RFC 7591 jwks).
    body.token_endpoint_auth_method = "private_key_jwt"
    body.jwks = { keys = { jwt.public_jwk(opts.private_key) } }
  elseif opts.client_auth then
    body.token_endpoint_auth_method = opts.client_auth
  elseif type(supported) == "table" then
    for _, method in ipairs({ "client_secret_basic", "client_secret_post", "none" }) do
      if contains(supported, method) then
        body.token_endpoint_auth_method = method
        break
      end
    end
  end
  for key, value in pairs(opts.client_metadata or {}) do
    body[key] = value
  end
  return body
end

local function register(ctx, endpoint, body)
  local tags = {}
  for key, value in pairs(ctx.tags or {}) do
    tags[key] = value
  end
  tags.name = "mcp_auth_register"
  local res = ctx.http.post(endpoint, json.encode(body), { headers = { ["Content-Type"] = "application/json",
    Accept = "application/json" }, tags = tags, timeout = ctx.timeout })
  local ok, answer = pcall(json.decode, res.body or "")
  if (res.status ~= 201 and res.status ~= 200) or not ok or type(answer) ~= "table"
      or type(answer.client_id) ~= "string" then
    local detail = ok and type(answer) == "table" and answer.error and (tostring(answer.error) .. ": "
      .. tostring(answer.error_description)) or (res.status == 0 and tostring(res.error) or "HTTP " .. res.status)
    return nil, "dynamic client registration at " .. endpoint .. " failed: " .. detail
  end
  return { client_id = answer.client_id, client_secret = answer.client_secret,
    token_endpoint_auth_method = answer.token_endpoint_auth_method }
end

-- The client for the authorization server of `found` (a discovery result): { client_id, client_secret,
-- token_endpoint_auth_method, issuer, source = "pre" | "cimd" | "dcr" } or nil, reason.
function M.client_for(ctx, found, opts)
  local md, issuer = found.metadata, found.issuer
  if opts.client_id ~= nil then
    if opts.issuer ~= nil and opts.issuer ~= issuer then
      return nil, "the pre-registered client_id belongs to " .. opts.issuer .. ", but the server now names "
        .. tostring(issuer) .. " as its authorization server"
    end
    return { client_id = opts.client_id, client_secret = opts.client_secret, issuer = issuer, source = "pre" }
  end
  if opts.client_metadata_url ~= nil and md.client_id_metadata_document_supported == true then
    return { client_id = opts.client_metadata_url, issuer = issuer, source = "cimd",
      token_endpoint_auth_method = "none" }
  end
  if type(md.registration_endpoint) ~= "string" then
    return nil, "the authorization server " .. tostring(issuer) .. " offers no way to obtain a client_id (no "
      .. "registration_endpoint" .. (opts.client_metadata_url and "" or ", and no client_metadata_url was given")
      .. "): set auth.client_id"
  end
  local body = M.client_metadata(opts, md)
  local key = "luaload.mcp.auth.registration\n" .. tostring(issuer) .. "\n" .. json.encode(body)
  local cached = opts.shared_registration ~= false and discovery.cache_get(key)
  if cached then
    return cached
  end
  if opts.shared_registration == false then
    local client, err = register(ctx, md.registration_endpoint, body)
    if client then
      client.issuer, client.source = issuer, "dcr"
    end
    return client, err
  end
  return discovery.single_flight(key, function()
    local client, err = register(ctx, md.registration_endpoint, body)
    if not client then
      return nil, err
    end
    client.issuer, client.source = issuer, "dcr"
    discovery.cache_set(key, client)
    return client
  end)
end

M.contains = contains

return M
