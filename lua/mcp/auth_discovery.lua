-- SPDX-License-Identifier: MIT
-- luaload.mcp.auth_discovery: from a 401 to the authorization server's endpoints, as MCP authorization specifies
-- (2025-06-18 onwards, with the 2025-03-26 fallbacks):
--   1. WWW-Authenticate (RFC 6750 §3, RFC 9728 §5.1): resource_metadata, scope, error;
--   2. protected resource metadata (RFC 9728): the header's URL, else the path-based well-known URL, else the
--      root one; its `resource` must identify this server (RFC 9728 §3.3);
--   3. authorization server metadata (RFC 8414 §3.1 with path insertion, OpenID Connect Discovery inserted and
--      appended); its `issuer` must be the one the URL was built from (RFC 8414 §3.3);
--   4. no protected resource metadata at all (a 2025-03-26 server): the server's origin is the authorization
--      server, with /authorize, /token and /register when it has no metadata either.
-- Results are cached for the run (ll.shared when the runtime has it, else per worker), keyed by server URL.
local ll = require("luaload")

local type, pairs, ipairs, tostring, pcall = type, pairs, ipairs, tostring, pcall
local find, match, sub, lower, gsub = string.find, string.match, string.sub, string.lower, string.gsub
local json = ll.json

local M = {}

---------------------------------------------------------------------------------------------------------------
-- WWW-Authenticate

local function skip_separators(text, pos)
  local _, stop = find(text, "^[%s,]*", pos)
  return stop + 1
end

-- One auth-param value at `pos`: a quoted-string (with \-escapes) or a token. Returns value, next position.
local function read_value(text, pos)
  if sub(text, pos, pos) ~= '"' then
    local value = match(text, "^[^%s,]*", pos)
    return value, pos + #value
  end
  local out, i = {}, pos + 1
  while i <= #text do
    local c = sub(text, i, i)
    if c == "\\" then
      out[#out + 1] = sub(text, i + 1, i + 1)
      i = i + 2
    elseif c == '"' then
      return table.concat(out), i + 1
    else
      out[#out + 1] = c
      i = i + 1
    end
  end
  return table.concat(out), i
end

-- The challenges of a WWW-Authenticate value: a list of { scheme = "bearer" (lower-cased), params = {...} }
-- (parameter names lower-cased). Tolerant: whatever does not parse is skipped.
function M.parse_challenges(header)
  local challenges, current = {}, nil
  if type(header) ~= "string" then
    return challenges
  end
  local pos = skip_separators(header, 1)
  while pos <= #header do
    local name = match(header, "^[%w!#$%%&'*+%-.^_`|~]+", pos)
    if not name then
      pos = pos + 1
    else
      local after = skip_separators(header, pos + #name)
      local eq = find(header, "^%s*=", pos + #name)
      if eq and current then
        local value_start = skip_separators(header, (match(header, "^%s*=%s*()", pos + #name)))
        local value
        value, pos = read_value(header, value_start)
        current.params[lower(name)] = value
      else
        current = { scheme = lower(name), params = {} }
        challenges[#challenges + 1] = current
        pos = after
      end
    end
    pos = skip_separators(header, pos)
  end
  return challenges
end

-- The parameters of the Bearer or DPoP challenge (the first of them), plus `scheme`; {} when there is none.
function M.challenge(header)
  for _, c in ipairs(M.parse_challenges(header)) do
    if c.scheme == "bearer" or c.scheme == "dpop" then
      c.params.scheme = c.scheme
      return c.params
    end
  end
  return {}
end

---------------------------------------------------------------------------------------------------------------
-- URLs

-- scheme, authority, path (no query or fragment) of an absolute URL; nil when it is not one.
local function split(url)
  local scheme, authority, rest = match(url or "", "^(%a[%w+.-]*)://([^/?#]+)(.*)$")
  if not scheme then
    return nil
  end
  return lower(scheme), lower(authority), match(rest, "^([^?#]*)")
end

function M.origin(url)
  local scheme, authority = split(url)
  return scheme and scheme .. "://" .. authority or nil
end

-- The canonical URI of an MCP server (RFC 8707 §2 as MCP uses it): no fragment, lower-case scheme and host, no
-- trailing slash on an empty path.
function M.canonical(url)
  local scheme, authority, path = split(url)
  if not scheme then
    return url
  end
  local query = match(url, "^[^?#]*(%?[^#]*)") or ""
  if path == "/" then
    path = ""
  end
  return scheme .. "://" .. authority .. path .. query
end

-- Whether the protected resource `resource` (from metadata) covers the server at `server_url`: same origin and a
-- path that is the server's or a parent of it, on a segment boundary.
function M.resource_matches(resource, server_url)
  local s1, a1, p1 = split(resource)
  local s2, a2, p2 = split(server_url)
  if not s1 or s1 ~= s2 or a1 ~= a2 then
    return false
  end
  p1, p2 = gsub(p1, "/+$", ""), gsub(p2, "/+$", "")
  return p1 == "" or p1 == p2 or (sub(p2, 1, #p1) == p1 and sub(p2, #p1 + 1, #p1 + 1) == "/")
end

-- RFC 9728 §3.1 well-known URLs for a server, path-based first.
function M.prm_urls(server_url)
  local scheme, authority, path = split(server_url)
  local root = scheme .. "://" .. authority .. "/.well-known/oauth-protected-resource"
  path = gsub(path, "/+$", "")
  if path == "" then
    return { root }
  end
  return { root .. path, root }
end

-- RFC 8414 §3.1 and OpenID Connect Discovery URLs for an issuer, in the order MCP prescribes.
function M.as_metadata_urls(issuer)
  local scheme, authority, path = split(issuer)
  local base = scheme .. "://" .. authority
  path = gsub(path, "/+$", "")
  if path == "" then
    return { base .. "/.well-known/oauth-authorization-server", base .. "/.well-known/openid-configuration" }
  end
  return { base .. "/.well-known/oauth-authorization-server" .. path,
           base .. "/.well-known/openid-configuration" .. path,
           base .. path .. "/.well-known/openid-configuration" }
end

---------------------------------------------------------------------------------------------------------------
-- Fetching (ctx: http, timeout, tags)

-- Discovery tries its well-known URLs in order, and a 404 moves on to the next one (or lets the caller fall back):
-- an outcome it handles, not a failed request in http_req_failed. Redirects (followed) count as usual.
local kMetadataExpectedStatuses = { { min = 200, max = 399 }, 404 }

local function get_json(ctx, url)
  local tags = {}
  for key, value in pairs(ctx.tags or {}) do
    tags[key] = value
  end
  tags.name = "mcp_auth_metadata"
  local res = ctx.http.get(url, { headers = { Accept = "application/json" }, tags = tags, timeout = ctx.timeout,
    redirects = 3, expected_statuses = kMetadataExpectedStatuses })
  if res.status ~= 200 then
    return nil, res.status == 0 and tostring(res.error) or "HTTP " .. tostring(res.status)
  end
  local ok, value = pcall(json.decode, res.body)
  if not ok or type(value) ~= "table" then
    return nil, "not a JSON object"
  end
  return value
end

-- The protected resource metadata for the server: from `hint` (the header's resource_metadata) if given, else the
-- well-known URLs. Returns prm, nil | nil, reason ("none" when no URL had any, so the caller may fall back).
function M.fetch_prm(ctx, server_url, hint)
  local urls = hint and { hint } or M.prm_urls(server_url)
  local last
  for _, url in ipairs(urls) do
    local prm, why = get_json(ctx, url)
    if prm then
      if type(prm.resource) ~= "string" or not M.resource_matches(prm.resource, server_url) then
        return nil, "the protected resource metadata at " .. url .. " is for " .. tostring(prm.resource)
          .. ", not for " .. server_url .. " (RFC 9728 §3.3)"
      end
      return prm
    end
    last = url .. ": " .. why
  end
  return nil, hint and last or "none"
end

-- The metadata of the authorization server `issuer`, validated; nil, reason when no URL gave a valid document.
function M.fetch_as(ctx, issuer)
  local reasons = {}
  for _, url in ipairs(M.as_metadata_urls(issuer)) do
    local md, why = get_json(ctx, url)
    if md and md.issuer ~= issuer then
      why = "issuer " .. tostring(md.issuer) .. " is not " .. issuer .. " (RFC 8414 §3.3)"
      md = nil
    end
    if md then
      return md
    end
    reasons[#reasons + 1] = url .. ": " .. why
  end
  return nil, "no valid authorization server metadata for " .. issuer .. " (" .. table.concat(reasons, "; ") .. ")"
end

-- 2025-03-26: the server's origin is the authorization server; its RFC 8414 metadata, else the default endpoints.
local function legacy(ctx, server_url)
  local base = M.origin(server_url)
  local md = get_json(ctx, base .. "/.well-known/oauth-authorization-server")
  if md and md.issuer ~= nil and md.issuer ~= base then
    md = nil
  end
  if md == nil then
    md = { authorization_endpoint = base .. "/authorize", token_endpoint = base .. "/token",
      registration_endpoint = base .. "/register" }
  end
  return { legacy = true, issuer = md.issuer or base, metadata = md }
end

-- Discovery for `server_url` from a challenge's resource_metadata (may be nil). Returns
-- { resource =, prm =, issuer =, metadata =, legacy = } or nil, reason.
function M.discover(ctx, server_url, hint)
  local prm, why = M.fetch_prm(ctx, server_url, hint)
  if not prm then
    if why == "none" then
      return legacy(ctx, server_url)
    end
    return nil, why
  end
  local servers = prm.authorization_servers
  if type(servers) ~= "table" or type(servers[1]) ~= "string" then
    return nil, "the protected resource metadata lists no authorization_servers"
  end
  local issuer = servers[1]
  local md, aswhy = M.fetch_as(ctx, issuer)
  if not md then
    return nil, aswhy
  end
  return { resource = prm.resource, prm = prm, issuer = issuer, metadata = md }
end

---------------------------------------------------------------------------------------------------------------
-- Run-wide cache

local local_cache = {}

local function shared_api()
  local shared = ll.shared
  if type(shared) == "table" and type(shared.get) == "function" and type(shared.set) == "function" then
    return shared
  end
  return nil
end

-- The cached value of `key` (a table), or nil.
function M.cache_get(key)
  local value = local_cache[key]
  if value ~= nil then
    return value
  end
  local shared = shared_api()
  local text = shared and shared.get(key)
  if type(text) == "string" then
    local ok, decoded = pcall(json.decode, text)
    if ok and type(decoded) == "table" then
      local_cache[key] = decoded
      return decoded
    end
  end
  return nil
end

function M.cache_set(key, value)
  local_cache[key] = value
  local shared = shared_api()
  if shared then
    shared.set(key, json.encode(value))
  end
end

-- Forgets this worker's copies (tests).
function M.cache_reset()
  local_cache = {}
end

local in_flight = {}

-- Runs fn() (-> value, err) once per worker for `key` at a time: callers that arrive while it runs wait for it
-- (ll.event) and get its results, so that the VUs of a worker starting together send one discovery (or one
-- registration), not one each.
function M.single_flight(key, fn)
  local running = in_flight[key]
  if running then
    running.event:wait(60)
    if running.done then
      return running.value, running.err
    end
  end
  local entry = { event = ll.event() }
  in_flight[key] = entry
  local ok, value, err = pcall(fn)
  if in_flight[key] == entry then
    in_flight[key] = nil
  end
  entry.value, entry.err, entry.done = value, err, true
  entry.event:notify()
  if not ok then
    error(value, 0)
  end
  return value, err
end

return M
