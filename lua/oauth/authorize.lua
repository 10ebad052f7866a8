-- SPDX-License-Identifier: MIT
-- luaload.oauth.authorize: the front-channel half of the authorization code grant (RFC 6749 §4.1) with PKCE
-- (RFC 7636), the resource indicator (RFC 8707) and issuer identification (RFC 9207). luaload plays the user
-- agent: it GETs the authorization URL and follows the server's redirects until one points at the client's
-- redirect_uri, which it never fetches (it reads code, state and iss from the Location). A server that shows a
-- login page instead needs the script's hook, which gets the authorization URL and returns that final redirect.
local encoding = require("luaload.encoding")
local crypto = require("luaload.crypto")

local type, tostring, pcall, pairs, setmetatable = type, tostring, pcall, pairs, setmetatable
local format, find, match, sub = string.format, string.find, string.match, string.sub

local M = {}

M.MAX_HOPS = 5

local function fail(text, fields)
  fields = fields or {}
  fields.error = fields.error or "authorization_failed"
  fields.message = "oauth: authorization request failed: " .. text
  return nil, setmetatable(fields, { __tostring = function(e) return e.message end })
end

-- `base` with `query` (a table) appended as a query string.
function M.with_query(base, query)
  local encoded = encoding.form_encode(query)
  if encoded == "" then
    return base
  end
  return base .. (find(base, "?", 1, true) and "&" or "?") .. encoded
end

-- The authorization request. o: endpoint, client_id, redirect_uri, pkce, scope, resource, state, extra (table).
function M.url(o)
  local query = { response_type = "code", client_id = o.client_id, redirect_uri = o.redirect_uri,
    code_challenge = o.pkce.challenge, code_challenge_method = o.pkce.method or "S256", state = o.state,
    scope = o.scope, resource = o.resource }
  for key, value in pairs(o.extra or {}) do
    query[key] = value
  end
  return M.with_query(o.endpoint, query)
end

function M.new_state()
  return encoding.base64url_encode(crypto.random_bytes(16))
end

-- An absolute URL for a Location header relative to `base`.
local function resolve(base, location)
  if find(location, "^%a[%w+.-]*://") then
    return location
  end
  local origin = match(base, "^(%a[%w+.-]*://[^/?#]+)") or ""
  if sub(location, 1, 2) == "//" then
    return (match(base, "^(%a[%w+.-]*:)") or "http:") .. location
  end
  if sub(location, 1, 1) == "/" then
    return origin .. location
  end
  return (match(base, "^([^?#]*/)") or (origin .. "/")) .. location
end

-- Whether `location` is `redirect_uri` (with a query or fragment of its own).
function M.is_redirect_to(location, redirect_uri)
  if sub(location, 1, #redirect_uri) ~= redirect_uri then
    return false
  end
  local rest = sub(location, #redirect_uri + 1, #redirect_uri + 1)
  return rest == "" or rest == "?" or rest == "#" or rest == "&"
end

-- The redirect to the client's redirect_uri the authorization server answers with, following its other
-- redirects as a browser would. o: http, url, redirect_uri, timeout, tags.
function M.follow(o)
  local url = o.url
  for _ = 1, M.MAX_HOPS do
    local res = o.http.get(url, { redirects = 0, tags = o.tags or { name = "oauth_authorize" }, timeout = o.timeout })
    local location = res.headers and res.headers["Location"]
    if res.status < 300 or res.status >= 400 or type(location) ~= "string" then
      local detail = res.status == 0 and tostring(res.error) or format("HTTP %d without a redirect", res.status)
      return fail(detail .. " (a login page needs the script's authorization hook)", { status = res.status })
    end
    location = resolve(url, location)
    if M.is_redirect_to(location, o.redirect_uri) then
      return location
    end
    url = location
  end
  return fail(format("more than %d redirects before the redirect_uri", M.MAX_HOPS))
end

-- RFC 9207 §2.4 with the MCP table: a present iss must equal the recorded issuer (simple string comparison, no
-- normalisation); an absent one is refused only when the server advertised iss support. Without a recorded issuer
-- (a plain client that was not told its server's) there is nothing to compare a present iss with.
local function check_iss(params, o)
  local iss = params.iss
  if iss ~= nil then
    if o.issuer ~= nil and iss ~= o.issuer then
      return false, format("the iss parameter %q is not the authorization server's issuer %q", tostring(iss),
        tostring(o.issuer))
    end
    return true
  end
  if o.iss_supported == true then
    return false, "the authorization server advertises iss but the response has none"
  end
  return true
end

-- The code of an authorization response (the redirect URL), validated before it may be redeemed:
-- iss first (an error response with a wrong iss is not acted on), then error, then state.
-- o: state, issuer (recorded from validated metadata), iss_supported.
function M.parse_redirect(location, o)
  local ok, params = pcall(encoding.form_decode, match(location, "%?([^#]*)") or "")
  if not ok then
    return fail("the redirect's query is malformed")
  end
  local iss_ok, why = check_iss(params, o)
  if not iss_ok then
    return fail(why, { error = "invalid_issuer" })
  end
  if params.error then
    local description = params.error_description and " (" .. params.error_description .. ")" or ""
    return fail(params.error .. description, { error = params.error, error_description = params.error_description })
  end
  if o.state ~= nil and params.state ~= o.state then
    return fail("the redirect's state does not match the request", { error = "invalid_state" })
  end
  if type(params.code) ~= "string" or params.code == "" then
    return fail("no code in the redirect " .. location)
  end
  return params.code
end

-- The whole front channel: builds the request, gets the final redirect (from `hook(url, info)` when the script
-- set one, else by following), validates it. Returns code, redirect_uri or nil, err.
-- o: everything M.url, M.follow and M.parse_redirect take, plus hook and info.
function M.run(o)
  o.state = o.state or M.new_state()
  local url = M.url(o)
  local location, err
  if o.hook then
    location, err = o.hook(url, o.info or {})
    if type(location) ~= "string" then
      return fail("the authorization hook returned no redirect URL" .. (err and ": " .. tostring(err) or ""))
    end
  else
    location, err = M.follow({ http = o.http, url = url, redirect_uri = o.redirect_uri, timeout = o.timeout,
      tags = o.tags })
    if not location then
      return nil, err
    end
  end
  local code, perr = M.parse_redirect(location, o)
  if not code then
    return nil, perr
  end
  return code, o.redirect_uri
end

return M
