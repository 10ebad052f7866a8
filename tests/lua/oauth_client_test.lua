-- SPDX-License-Identifier: MIT
-- luaload.oauth client logic against a fake HTTP module and an injected clock: no network, no real time.
local oauth = require("luaload.oauth")
local encoding = require("luaload.encoding")
local ll = require("luaload")

local function copy(fields)
  local out = {}
  for key, value in pairs(fields or {}) do
    out[key] = value
  end
  return out
end

-- An http module whose requests go to `handler(req)`; every request is logged.
local function fake_http(handler)
  local log = {}
  local fake = {}
  function fake.request(method, url, body, params)
    local req = { method = method, url = url, form = copy(params.form), headers = copy(params.headers),
                  tags = copy(params.tags), params = params }
    log[#log + 1] = req
    return handler(req)
  end
  function fake.post(url, body, params) return fake.request("POST", url, body, params) end
  function fake.get(url, params) return fake.request("GET", url, nil, params) end
  return fake, log
end

local function json_response(status, value)
  return { status = status, body = ll.json.encode(value), headers = {} }
end

-- A token endpoint issuing "a<n>"/"r<n>" pairs valid `ttl` seconds and rotating refresh tokens.
local function token_server(ttl)
  local issued, valid_refresh = 0, {}
  return function(req)
    if req.form.grant_type == "refresh_token" and not valid_refresh[req.form.refresh_token] then
      return json_response(400, { error = "invalid_grant", error_description = "refresh token expired" })
    end
    valid_refresh[req.form.refresh_token or ""] = nil
    issued = issued + 1
    valid_refresh["r" .. issued] = true
    return json_response(200, { access_token = "a" .. issued, refresh_token = "r" .. issued, expires_in = ttl,
                                token_type = "Bearer" })
  end
end

local function clock()
  local c = { ms = 0 }
  c.now = function() return c.ms end
  return c
end

local function password_client(fake, c, extra)
  local config = { token_url = "http://t/oauth/token", client_id = "luaload", client_secret = "secret",
                   grant = "password", username = "u1", password = "pass", http = fake, now = c.now,
                   random = function() return 0 end }
  for key, value in pairs(extra or {}) do
    config[key] = value
  end
  return oauth.new(config)
end

test("client_credentials sends the grant, scope and HTTP Basic auth, tagged as a token call", function()
  local fake, log = fake_http(token_server(60))
  local client = oauth.new({ token_url = "http://t/oauth/token", client_id = "luaload", client_secret = "s:cret",
                             scope = "read write", http = fake, now = clock().now })
  t.eq(client:token(), "a1")
  t.eq(log[1].form, { grant_type = "client_credentials", scope = "read write" })
  t.eq(log[1].headers.Authorization, "Basic " .. encoding.base64_encode("luaload:s%3Acret"))
  t.eq(log[1].tags, { name = "oauth_token", oauth_grant = "client_credentials" })
end)

test("client_auth body puts the credentials in the form instead of a header", function()
  local fake, log = fake_http(token_server(60))
  local client = oauth.new({ token_url = "http://t/oauth/token", client_id = "luaload", client_secret = "secret",
                             client_auth = "body", http = fake, now = clock().now })
  client:token()
  t.eq(log[1].form, { grant_type = "client_credentials", client_id = "luaload", client_secret = "secret" })
  t.eq(log[1].headers.Authorization, nil)
end)

test("the token is cached until 10 percent of its lifetime remains, then refreshed", function()
  local fake, log = fake_http(token_server(100))
  local c = clock()
  local client = password_client(fake, c)
  t.eq(client:token(), "a1")
  c.ms = 89999
  t.eq(client:token(), "a1")
  t.eq(#log, 1, "no request while the token is fresh")
  c.ms = 90000
  t.eq(client:token(), "a2")
  t.eq(log[2].form, { grant_type = "refresh_token", refresh_token = "r1" })
  t.eq(log[2].tags.oauth_grant, "refresh_token")
end)

test("skew and skew_s move the renewal point", function()
  t.eq(oauth.refresh_at(1000, 100, 0.5), 51000)
  t.eq(oauth.refresh_at(1000, 100, nil, 5), 96000)
  t.eq(oauth.refresh_at(1000, 100), 91000)
  t.eq(oauth.refresh_at(1000, nil), math.huge, "no lifetime: never by the clock")
end)

test("max_lifetime caps a long server lifetime", function()
  local fake, log = fake_http(token_server(3600))
  local c = clock()
  local client = password_client(fake, c, { max_lifetime = 4 })
  client:token()
  c.ms = 1999
  client:token()
  t.eq(#log, 1)
  c.ms = 2000
  t.eq(client:token(), "a2", "a 4 s token is renewed 2 s (the minimum margin) before its end")
end)

test("a rotated refresh token replaces the old one", function()
  local fake, log = fake_http(token_server(10))
  local c = clock()
  local client = password_client(fake, c)
  client:token()
  t.eq(client:refresh(), "a2")
  t.eq(client.refresh_token, "r2")
  t.eq(client:refresh(), "a3")
  t.eq(log[3].form.refresh_token, "r2")
end)

test("a rejected refresh token leads to a new login with the client's grant", function()
  local fake, log = fake_http(token_server(10))
  local client = password_client(fake, clock())
  client:token()
  client.refresh_token = "revoked"
  t.eq(client:refresh(), "a2")
  t.eq(log[2].form.grant_type, "refresh_token")
  t.eq(log[3].form, { grant_type = "password", username = "u1", password = "pass" })
  t.eq(client.refresh_token, "r2")
end)

test("invalid client credentials come back as nil and the OAuth error with its description", function()
  local fake = fake_http(function()
    return json_response(401, { error = "invalid_client", error_description = "client authentication failed" })
  end)
  local client = password_client(fake, clock())
  local token, err = client:token()
  t.eq(token, nil)
  t.eq(err.error, "invalid_client")
  t.eq(err.status, 401)
  t.eq(tostring(err),
    "oauth: token request failed: invalid_client (client authentication failed) [grant password, HTTP 401]")
  local res, rerr = client:get("http://t/api/items")
  t.eq(res, nil, "no request is sent without a token")
  t.eq(rerr.error, "invalid_client")
end)

test("parse_error reports non-OAuth failures by status and network errors by message", function()
  t.eq(oauth.parse_error({ status = 502, body = "<html>bad\ngateway</html>" }),
    { error = "http_502", error_description = "<html>bad gateway</html>", status = 502 })
  t.eq(oauth.parse_error({ status = 0, body = "", error = "dial: connection refused" }),
    { error = "network_error", error_description = "dial: connection refused", status = 0 })
  t.eq(oauth.parse_error({ status = 200, body = "{}" }),
    { error = "invalid_response", error_description = "no access_token in the token response", status = 200 })
  t.eq(oauth.parse_error({ status = 200, body = '{"access_token":"x"}' }), nil)
end)

test("a 401 from a resource renews the token once and retries", function()
  local issue = token_server(60)
  local fake, log = fake_http(function(req)
    if req.url == "http://t/oauth/token" then
      return issue(req)
    end
    local ok = req.headers.Authorization == "Bearer a2"
    return { status = ok and 200 or 401, body = "", headers = {} }
  end)
  local client = password_client(fake, clock())
  local res = client:get("http://t/api/items", { headers = { Accept = "text/plain" } })
  t.eq(res.status, 200)
  t.eq(#log, 4, "login, 401, refresh, retry")
  t.eq(log[4].headers, { Accept = "text/plain", Authorization = "Bearer a2" })
end)

test("a second 401 is returned to the script, not retried again", function()
  local issue = token_server(60)
  local fake, log = fake_http(function(req)
    if req.url == "http://t/oauth/token" then
      return issue(req)
    end
    return { status = 401, body = "", headers = {} }
  end)
  local client = password_client(fake, clock())
  t.eq(client:get("http://t/api/items").status, 401)
  t.eq(#log, 4)
end)

test("authorization_code sends the code, redirect URI and a verifier matching the challenge", function()
  local fake, log = fake_http(token_server(60))
  local seen
  local client = oauth.new({ token_url = "http://t/oauth/token", client_id = "luaload", client_secret = "secret",
    grant = "authorization_code", http = fake, now = clock().now,
    authorize = function(pkce) seen = pkce; return "code-1", "http://app/cb" end })
  client:token()
  t.eq(log[1].form.code, "code-1")
  t.eq(log[1].form.redirect_uri, "http://app/cb")
  t.eq(oauth.pkce_challenge(log[1].form.code_verifier), seen.challenge)
end)

test("authorize_url is followed to its redirect and the state is checked", function()
  local fake, log = fake_http(function(req)
    if req.method == "GET" then
      local query = encoding.form_decode(req.url:match("%?(.*)$"))
      local location = query.redirect_uri .. "?code=c9&state=" .. query.state
      return { status = 302, body = "", headers = { Location = location } }
    end
    return token_server(60)(req)
  end)
  local client = oauth.new({ token_url = "http://t/oauth/token", client_id = "luaload", client_secret = "secret",
    grant = "authorization_code", authorize_url = "http://t/oauth/authorize", redirect_uri = "http://app/cb",
    http = fake, now = clock().now })
  client:token()
  t.eq(log[1].params.redirects, 0)
  t.eq(log[1].tags.name, "oauth_authorize")
  t.eq(log[2].form.code, "c9")
end)

test("oauth.new rejects incomplete configurations", function()
  t.raises(function() oauth.new({}) end, "oauth.new: token_url must be a string")
  t.raises(function() oauth.new({ token_url = "x", grant = "implicit" }) end, "oauth.new: grant must be")
  t.raises(function() oauth.new({ token_url = "x", grant = "password" }) end, "needs username and password")
  t.raises(function() oauth.new({ token_url = "x", skew = 1.5 }) end, "skew is a fraction")
  t.raises(function() oauth.new({ token_url = "x", jitter = 0.9 }) end, "jitter is a fraction")
  t.raises(function() oauth.new({ token_url = "x", client_auth = "private_key_jwt" }) end, "needs private_key")
  t.raises(function() oauth.new({ token_url = "x", grant = "jwt_bearer" }) end, "needs assertion")
  t.raises(function() oauth.new({ token_url = "x", grant = "token_exchange" }) end, "needs subject_token")
end)

test("a token response without scope keeps the requested scope, and a refresh keeps the granted one", function()
  local issued = 0
  local fake = fake_http(function(req)
    issued = issued + 1
    local body = { access_token = "a" .. issued, refresh_token = "r" .. issued, expires_in = 60,
                   token_type = "Bearer" }
    if issued == 2 then body.scope = "read" end
    return json_response(200, body)
  end)
  local client = password_client(fake, clock(), { scope = "read write" })
  client:token()
  t.eq(client.scope, "read write", "RFC 6749 5.1: no scope in the answer means the requested scope")
  client:refresh()
  t.eq(client.scope, "read", "the server narrowed it")
  client:refresh()
  t.eq(client.scope, "read", "RFC 6749 6: a refresh without scope keeps the granted scope")
end)

test("a token of a type other than Bearer is refused; the type is case-insensitive", function()
  local token_type = "mac"
  local fake = fake_http(function()
    return json_response(200, { access_token = "a", expires_in = 60, token_type = token_type })
  end)
  local client = oauth.new({ token_url = "http://t/oauth/token", client_id = "luaload", client_secret = "secret",
                             http = fake, now = clock().now })
  local token, err = client:token()
  t.eq(token, nil)
  t.truthy(tostring(err):find("unsupported token_type", 1, true), "the refusal names the type")
  token_type = "bearer"
  t.eq(client:token(), "a")
end)

test("a redirect's iss must be the configured issuer; without one it is not checked", function()
  local iss = "https://as.example"
  local fake = fake_http(function(req)
    if req.method == "GET" then
      local query = encoding.form_decode(req.url:match("%?(.*)$"))
      return { status = 302, body = "", headers = { Location = query.redirect_uri .. "?code=c9&state=" .. query.state
        .. "&iss=" .. encoding.url_encode(iss) } }
    end
    return token_server(60)(req)
  end)
  local function client(issuer)
    return oauth.new({ token_url = "http://t/oauth/token", client_id = "luaload", client_secret = "secret",
      grant = "authorization_code", authorize_url = "http://t/oauth/authorize", redirect_uri = "http://app/cb",
      issuer = issuer, http = fake, now = clock().now })
  end
  t.truthy(client(nil):token(), "no issuer configured")
  t.truthy(client("https://as.example"):token(), "the right issuer")
  local token, err = client("https://other.example"):token()
  t.eq(token, nil)
  t.eq(err.error, "invalid_issuer")
end)
