-- SPDX-License-Identifier: MIT
-- luaload.mcp.auth against a scripted world (MCP server, protected resource metadata, authorization server):
-- the hooks are driven the way the HTTP transport drives them (prepare, send, on_response for 401/403, resend).
-- Discovery, registration, PKCE, iss validation, step-up, migration and the 2025-03-26 fallbacks.
local auth = require("luaload.mcp.auth")
local discovery = require("luaload.mcp.auth_discovery")
local encoding = require("luaload.encoding")
local oauth = require("luaload.oauth")
local ll = require("luaload")

local json = ll.json
local worlds = 0

local function json_res(status, value, headers)
  return { status = status, body = json.encode(value), headers = headers or {} }
end

local function query_of(url)
  return encoding.form_decode(url:match("%?([^#]*)") or "")
end

-- A world: w.cfg switches behaviours; every HTTP request is logged as {method, url, form, json, headers}.
local function world(cfg)
  worlds = worlds + 1
  local w = { cfg = cfg or {}, log = {}, tokens = {}, issued = 0, auth_requests = {} }
  w.base = "https://mcp" .. worlds .. ".example"
  w.mcp = w.base .. "/mcp"
  w.as = w.cfg.as or ("https://as" .. worlds .. ".example")
  w.prm_url = w.base .. "/.well-known/oauth-protected-resource/mcp"
  local routes = {}
  w.routes = routes
  routes[w.prm_url] = function()
    if w.cfg.no_prm then return json_res(404, {}) end
    return json_res(200, { resource = w.cfg.prm_resource or w.mcp, authorization_servers = { w.as },
      scopes_supported = w.cfg.prm_scopes })
  end
  routes[w.as .. "/.well-known/oauth-authorization-server"] = function()
    local md = { issuer = w.cfg.md_issuer or w.as, authorization_endpoint = w.as .. "/authorize",
      token_endpoint = w.as .. "/token", registration_endpoint = not w.cfg.no_dcr and (w.as .. "/register") or nil,
      code_challenge_methods_supported = { "S256" }, scopes_supported = w.cfg.as_scopes,
      authorization_response_iss_parameter_supported = w.cfg.iss_supported,
      client_id_metadata_document_supported = w.cfg.cimd, token_endpoint_auth_methods_supported = w.cfg.methods }
    return json_res(200, md)
  end
  routes[w.as .. "/register"] = function(req)
    w.registered = json.decode(req.body)
    return json_res(201, { client_id = "dyn-" .. w.as, client_secret = w.cfg.dcr_secret })
  end
  routes[w.as .. "/authorize"] = function(req)
    local q = query_of(req.url)
    w.auth_requests[#w.auth_requests + 1] = q
    local iss = w.cfg.iss_in_redirect
    if iss == nil then iss = w.as end
    local loc = q.redirect_uri .. "?code=code-" .. #w.auth_requests .. "&state=" .. q.state
      .. (iss and ("&iss=" .. encoding.url_encode(iss)) or "")
    return { status = 302, body = "", headers = { Location = loc } }
  end
  routes[w.as .. "/token"] = function(req)
    w.issued = w.issued + 1
    local token = "tok-" .. w.issued
    local last = w.auth_requests[#w.auth_requests]
    w.tokens[token] = { scope = req.form.scope or (last and last.scope) or "" }
    return json_res(200, { access_token = token, token_type = "Bearer", expires_in = 3600 })
  end
  local fake = {}
  function fake.request(method, url, body, params)
    params = params or {}
    local req = { method = method, url = url, body = body, form = params.form or {}, headers = params.headers or {},
      params = params }
    w.log[#w.log + 1] = req
    local route = routes[url:match("^([^?]*)")]
    if route then return route(req) end
    return json_res(404, { error = "not_found" })
  end
  function fake.get(url, params) return fake.request("GET", url, nil, params) end
  function fake.post(url, body, params) return fake.request("POST", url, body, params) end
  w.http = fake
  -- The MCP endpoint: needs a token with every scope of cfg.need (per method).
  function w.resource(req, method)
    w.log[#w.log + 1] = { method = "POST", url = w.mcp, headers = req.headers, mcp = method,
      challenge_expected = req.auth_challenge_expected, authorized = req.headers.Authorization ~= nil }
    local h = req.headers.Authorization
    local challenge = w.cfg.challenge or ('Bearer resource_metadata="' .. w.prm_url .. '"')
    local info = h and w.tokens[h:match("^Bearer (.*)$") or ""]
    if not info or (w.cfg.reject and w.cfg.reject(h)) then
      return { status = 401, body = "", headers = { ["WWW-Authenticate"] = challenge } }
    end
    local need = w.cfg.need and w.cfg.need[method]
    for s in (need or ""):gmatch("%S+") do
      if not (" " .. info.scope .. " "):find(" " .. s .. " ", 1, true) then
        return { status = 403, body = "", headers = { ["WWW-Authenticate"] =
          'Bearer error="insufficient_scope", scope="' .. need .. '", resource_metadata="' .. w.prm_url .. '"' } }
      end
    end
    return { status = 200, body = "{}", headers = {} }
  end
  return w
end

-- One MCP request through the hooks, as the transport makes it.
local function send(a, w, method)
  local req = { method = "POST", url = w.mcp, headers = { ["Content-Type"] = "application/json" },
    mcp_method = method or "tools/list" }
  for _ = 1, 10 do
    local ok, err = a:prepare(req)
    if not ok then return nil, err end
    local res = w.resource(req, req.mcp_method)
    if res.status ~= 401 and res.status ~= 403 then return res end
    local again, err2 = a:on_response(req, res)
    if not again then return nil, err2 end
  end
  error("the hooks did not bound the attempts")
end

local function new_auth(w, extra)
  local opts = { http = w.http }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return auth.new(w.mcp, opts)
end

local function urls(w, method)
  local out = {}
  for _, r in ipairs(w.log) do
    if r.method == (method or "GET") then out[#out + 1] = r.url:match("^([^?]*)") end
  end
  return out
end

test("WWW-Authenticate challenges are parsed with quoted strings, escapes and several schemes", function()
  local cs = discovery.parse_challenges('Basic realm="a, b", Bearer error="insufficient_scope", '
    .. 'scope="files:read files:write", resource_metadata="https://x/.well-known/oauth-protected-resource", '
    .. 'error_description="say \\"hi\\""')
  t.eq(#cs, 2)
  t.eq(cs[1].scheme, "basic")
  t.eq(cs[2].params.scope, "files:read files:write")
  t.eq(cs[2].params.error_description, 'say "hi"')
  t.eq(discovery.challenge("DPoP algs=ES256").scheme, "dpop")
  t.eq(discovery.challenge(nil), {})
end)

test("the full flow: 401, metadata, registration, PKCE authorization with resource and iss, token, bearer", function()
  local w = world({ iss_supported = true })
  local a = new_auth(w)
  local res = send(a, w)
  t.eq(res.status, 200)
  t.eq(urls(w), { w.prm_url, w.as .. "/.well-known/oauth-authorization-server",
    w.as .. "/authorize" })
  t.eq(w.registered.application_type, "native", "a loopback redirect URI")
  t.eq(w.registered.grant_types, { "authorization_code", "refresh_token" })
  t.eq(w.registered.redirect_uris, { "http://localhost/luaload/callback" })
  local q = w.auth_requests[1]
  t.eq(q.response_type, "code")
  t.eq(q.client_id, "dyn-" .. w.as)
  t.eq(q.code_challenge_method, "S256")
  t.eq(q.resource, w.mcp)
  local token_req
  for _, r in ipairs(w.log) do if r.url == w.as .. "/token" then token_req = r end end
  t.eq(token_req.form.grant_type, "authorization_code")
  t.eq(token_req.form.resource, w.mcp)
  t.eq(token_req.form.client_id, "dyn-" .. w.as, "a public client (no secret) names itself")
  t.eq(oauth.pkce_challenge(token_req.form.code_verifier), q.code_challenge)
  t.eq(w.log[#w.log].headers.Authorization, "Bearer tok-1")
end)

test("only the request sent without a token expects the 401 that starts the flow", function()
  local w = world({ need = { ["tools/call"] = "mcp:write" } })
  local a = new_auth(w)
  t.eq(send(a, w).status, 200)
  t.eq(send(a, w, "tools/call").status, 200)
  local marks = {}
  for _, r in ipairs(w.log) do
    if r.url == w.mcp then
      marks[#marks + 1] = { r.authorized, r.challenge_expected or false }
    end
  end
  -- The token-less 401, the tokened 200, then the step-up's 403 and its resend: only the first expects a refusal.
  t.eq(marks, { { false, true }, { true, false }, { true, false }, { true, false } })
end)

test("without resource_metadata the path-based well-known URL is tried before the root one", function()
  local w = world({ challenge = "Bearer" })
  w.routes[w.base .. "/.well-known/oauth-protected-resource"] = function() error("root PRM must not be asked") end
  t.eq(send(new_auth(w), w).status, 200)
  t.eq(urls(w)[1], w.prm_url)
end)

test("well-known URLs: path-based first, and RFC 8414 / OpenID orders for issuers with a path", function()
  t.eq(discovery.prm_urls("https://h/public/mcp"), { "https://h/.well-known/oauth-protected-resource/public/mcp",
    "https://h/.well-known/oauth-protected-resource" })
  t.eq(discovery.prm_urls("https://h"), { "https://h/.well-known/oauth-protected-resource" })
  t.eq(discovery.as_metadata_urls("https://a/tenant1"), { "https://a/.well-known/oauth-authorization-server/tenant1",
    "https://a/.well-known/openid-configuration/tenant1", "https://a/tenant1/.well-known/openid-configuration" })
  t.eq(discovery.as_metadata_urls("https://a"), { "https://a/.well-known/oauth-authorization-server",
    "https://a/.well-known/openid-configuration" })
end)

test("a protected resource covers its own URL and the URLs below it, nothing else", function()
  t.eq(discovery.resource_matches("https://h/mcp", "https://H/mcp"), true)
  t.eq(discovery.resource_matches("https://h", "https://h/mcp"), true)
  t.eq(discovery.resource_matches("https://h/mc", "https://h/mcp"), false)
  t.eq(discovery.resource_matches("https://evil/mcp", "https://h/mcp"), false)
  t.eq(discovery.resource_matches("http://h/mcp", "https://h/mcp"), false)
end)

test("metadata for another resource stops the flow before any authorization", function()
  local w = world({ prm_resource = "https://evil.example/mcp" })
  local res, err = send(new_auth(w), w)
  t.eq(res, nil)
  t.eq(err.kind, "auth")
  t.truthy(tostring(err):find("evil.example", 1, true), "the error names the resource: " .. tostring(err))
  t.eq(#w.auth_requests, 0)
end)

test("authorization server metadata with another issuer is not used", function()
  local w = world({ md_issuer = "https://attacker.example" })
  local _, err = send(new_auth(w), w)
  t.truthy(tostring(err):find("attacker", 1, true), tostring(err))
  t.eq(#w.auth_requests, 0)
  t.eq(w.registered, nil)
end)

test("iss: validated by simple string comparison before the code is redeemed", function()
  local cases = {
    { iss_supported = true, iss_in_redirect = false, ok = false },   -- advertised, missing
    { iss_supported = nil, iss_in_redirect = false, ok = true },     -- neither
    { iss_supported = nil, iss_in_redirect = "https://evil.example", ok = false },
    { iss_supported = true, iss_in_redirect = "normalized", ok = false },
  }
  for i, case in ipairs(cases) do
    local w = world(case)
    if case.iss_in_redirect == "normalized" then w.cfg.iss_in_redirect = w.as .. "/" end
    local res = send(new_auth(w), w)
    t.eq(res ~= nil, case.ok, "case " .. i)
    t.eq(w.issued, case.ok and 1 or 0, "case " .. i .. ": token requests")
  end
end)

test("a Client ID Metadata Document URL is the client_id when the server supports them", function()
  local w = world({ cimd = true })
  t.eq(send(new_auth(w, { client_metadata_url = "https://app.example/client.json" }), w).status, 200)
  t.eq(w.auth_requests[1].client_id, "https://app.example/client.json")
  t.eq(w.registered, nil, "no dynamic registration")
end)

test("pre-registered credentials are used with client_secret_basic and refused for another issuer", function()
  local w = world({ no_dcr = true, methods = { "client_secret_basic" } })
  t.eq(send(new_auth(w, { client_id = "pre", client_secret = "sec" }), w).status, 200)
  local token_req
  for _, r in ipairs(w.log) do if r.url == w.as .. "/token" then token_req = r end end
  t.eq(token_req.headers.Authorization, "Basic " .. encoding.base64_encode("pre:sec"))
  local w2 = world({ no_dcr = true })
  local _, err = send(new_auth(w2, { client_id = "pre", issuer = "https://old-as.example" }), w2)
  t.truthy(tostring(err):find("old-as.example", 1, true), tostring(err))
end)

test("scope: the challenge's, else scopes_supported, else none; offline_access when the server lists it", function()
  local w1 = world({ challenge = nil, prm_scopes = { "a", "b" } })
  send(new_auth(w1), w1)
  t.eq(w1.auth_requests[1].scope, "a b")
  local w2 = world({ as_scopes = { "a", "offline_access" } })
  w2.cfg.challenge = 'Bearer scope="a", resource_metadata="' .. w2.prm_url .. '"'
  send(new_auth(w2), w2)
  t.eq(w2.auth_requests[1].scope, "a offline_access")
  local w3 = world({})
  send(new_auth(w3), w3)
  t.eq(w3.auth_requests[1].scope, nil, "omitted when nothing defines one")
end)

test("403 insufficient_scope steps up with the union of scopes, at most once per scope set", function()
  local w = world({ need = { ["tools/call"] = "write" } })
  w.cfg.challenge = 'Bearer scope="read", resource_metadata="' .. w.prm_url .. '"'
  local a = new_auth(w)
  t.eq(send(a, w, "tools/list").status, 200)
  t.eq(send(a, w, "tools/call").status, 200)
  t.eq(#w.auth_requests, 2)
  t.eq(w.auth_requests[2].scope, "read write")
  -- A server that refuses whatever the scope: one step-up, then a permanent failure.
  local w2 = world({ need = { ["tools/list"] = "admin" } })
  w2.routes[w2.as .. "/token"] = function()
    w2.issued = w2.issued + 1
    w2.tokens["t" .. w2.issued] = { scope = "" }
    return json_res(200, { access_token = "t" .. w2.issued, token_type = "Bearer" })
  end
  local res, err = send(new_auth(w2), w2, "tools/list")
  t.eq(res, nil)
  t.eq(err.kind, "auth")
  t.truthy(#w2.auth_requests <= 3, "bounded: " .. #w2.auth_requests .. " authorizations")
end)

test("a refused token is counted, discovery runs again, and a new authorization server means a new client", function()
  local w = world({})
  local a = new_auth(w)
  t.eq(send(a, w).status, 200)
  local first_client = w.auth_requests[1].client_id
  -- The server moves to a new authorization server: the same handlers under a new name.
  local old = w.as
  w.as = old .. ".new"
  for _, suffix in ipairs({ "/.well-known/oauth-authorization-server", "/register", "/authorize", "/token" }) do
    w.routes[w.as .. suffix] = w.routes[old .. suffix]
  end
  w.cfg.reject = function(h) return h == "Bearer tok-1" end
  t.eq(send(a, w).status, 200)
  t.eq(#w.auth_requests, 2)
  t.truthy(w.auth_requests[2].client_id ~= first_client, "re-registered: " .. w.auth_requests[2].client_id)
end)

test("2025-03-26: no protected resource metadata, the server's origin is the authorization server", function()
  local w = world({ no_prm = true, challenge = "Bearer" })
  w.as = w.base
  w.routes[w.base .. "/authorize"] = w.routes["https://as" .. worlds .. ".example/authorize"]
  w.routes[w.base .. "/token"] = w.routes["https://as" .. worlds .. ".example/token"]
  w.routes[w.base .. "/register"] = w.routes["https://as" .. worlds .. ".example/register"]
  w.cfg.iss_in_redirect = false
  t.eq(send(new_auth(w), w).status, 200)
  local got = urls(w)
  t.eq(got[#got], w.base .. "/authorize", "the default endpoint")
  t.truthy(w.registered ~= nil, "registered at /register")
end)

test("discovery is cached for the run: the next VU asks for a token without a 401 first", function()
  local w = world({})
  send(new_auth(w), w)
  local before = #w.log
  local res = send(new_auth(w), w)
  t.eq(res.status, 200)
  local unauthenticated = 0
  for i = before + 1, #w.log do
    if w.log[i].url == w.mcp and w.log[i].headers.Authorization == nil then unauthenticated = unauthenticated + 1 end
  end
  t.eq(unauthenticated, 0)
end)

test("a VU's next session reuses its token: no new authorization per mcp.connect", function()
  local w = world({})
  t.eq(send(new_auth(w), w).status, 200)
  t.eq(send(new_auth(w), w).status, 200)
  t.eq(#w.auth_requests, 1)
  t.eq(w.issued, 1)
end)

test("client credentials against the discovered token endpoint, no authorization request", function()
  local w = world({})
  t.eq(send(new_auth(w, { grant = "client_credentials", client_id = "svc", client_secret = "s" }), w).status, 200)
  t.eq(#w.auth_requests, 0)
  local token_req
  for _, r in ipairs(w.log) do if r.url == w.as .. "/token" then token_req = r end end
  t.eq(token_req.form.grant_type, "client_credentials")
  t.eq(token_req.form.resource, w.mcp)
end)

test("the script's authorization hook gets the URL and returns the redirect", function()
  local w = world({})
  local seen
  local a = new_auth(w, { on_authorization = function(url, info)
    seen = info
    local q = query_of(url)
    return q.redirect_uri .. "?code=from-hook&state=" .. q.state .. "&iss=" .. encoding.url_encode(info.issuer)
  end })
  t.eq(send(a, w).status, 200)
  t.eq(seen.issuer, w.as)
  t.eq(#w.auth_requests, 0, "luaload did not fetch the authorization URL itself")
end)

test("enterprise-managed: an ID token becomes an ID-JAG at the IdP, then a JWT bearer grant", function()
  local w = world({ methods = { "client_secret_basic" } })
  local idp_req
  w.routes["https://idp.example/token"] = function(req)
    idp_req = req
    return json_res(200, { access_token = "id-jag-1", token_type = "N_A",
      issued_token_type = "urn:ietf:params:oauth:token-type:id-jag" })
  end
  local a = new_auth(w, { grant = "jwt_bearer", client_id = "app", client_secret = "s",
    id_jag = { token_url = "https://idp.example/token", client_id = "idp-client", subject_token = "id-token-1" } })
  t.eq(send(a, w).status, 200)
  t.eq(idp_req.form, { grant_type = "urn:ietf:params:oauth:grant-type:token-exchange", client_id = "idp-client",
    subject_token = "id-token-1", subject_token_type = "urn:ietf:params:oauth:token-type:id_token",
    requested_token_type = "urn:ietf:params:oauth:token-type:id-jag", audience = w.as, resource = w.mcp })
  local token_req
  for _, r in ipairs(w.log) do if r.url == w.as .. "/token" then token_req = r end end
  t.eq(token_req.form.grant_type, "urn:ietf:params:oauth:grant-type:jwt-bearer")
  t.eq(token_req.form.assertion, "id-jag-1")
  t.eq(token_req.headers.Authorization, "Basic " .. encoding.base64_encode("app:s"))
end)

test("DPoP: a DPoP challenge turns it on; the resource server's nonce is answered by sending again", function()
  local crypto = require("luaload.crypto")
  local key = { sign = function(_, _, input) return crypto.hmac_sha256("k", input, "raw") end,
    public_jwk = function() return { kty = "EC", crv = "P-256", x = "x", y = "y" } end }
  local w = world({})
  w.cfg.challenge = 'DPoP resource_metadata="' .. w.prm_url .. '"'
  w.routes[w.as .. "/token"] = function()
    w.issued = w.issued + 1
    return json_res(200, { access_token = "dp-" .. w.issued, token_type = "DPoP", expires_in = 60 })
  end
  local nonce_asked = false
  local resource = w.resource
  w.resource = function(req, method)
    local h = req.headers.Authorization
    if h and h:find("^DPoP ") then
      local _, proof = oauth.jwt.decode(req.headers.DPoP)
      if proof.nonce ~= "rs-n" then
        nonce_asked = true
        return { status = 401, body = "", headers = { ["WWW-Authenticate"] = 'DPoP error="use_dpop_nonce"',
          ["DPoP-Nonce"] = "rs-n" } }
      end
      return { status = 200, body = "{}", headers = {} }
    end
    return resource(req, method)
  end
  local res = send(new_auth(w, { dpop_key = key }), w)
  t.eq(res and res.status, 200)
  t.eq(nonce_asked, true)
  local token_req
  for _, r in ipairs(w.log) do if r.url == w.as .. "/token" then token_req = r end end
  t.truthy(token_req.headers.DPoP ~= nil, "a proof on the token request")
  t.eq(w.issued, 1, "the nonce retry needs no new token")
end)

test("bad configurations raise at once", function()
  t.raises(function() auth.new("https://h/mcp", { grant = "password" }) end, "grant must be")
  t.raises(function() auth.new("https://h/mcp", { grant = "jwt_bearer" }) end, "needs assertion")
  t.raises(function() auth.new("https://h/mcp", { on_authorization = 1 }) end, "must be a function")
end)
