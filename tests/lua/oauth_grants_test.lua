-- SPDX-License-Identifier: MIT
-- luaload.oauth grants and client authentication against a scripted token endpoint: client_secret_basic/post,
-- public clients, client assertions (RFC 7523), the JWT bearer and token exchange grants, resource indicators,
-- extra parameters and DPoP at the token endpoint.
local oauth = require("luaload.oauth")
local jwt = require("luaload.oauth.jwt")
local crypto = require("luaload.crypto")
local ll = require("luaload")

local function endpoint(answer)
  local log = {}
  local fake = {}
  function fake.request(method, url, body, params)
    local req = { method = method, url = url, form = params.form or {}, headers = params.headers or {} }
    log[#log + 1] = req
    return answer(req, #log)
  end
  function fake.post(url, body, params) return fake.request("POST", url, body, params) end
  return fake, log
end

local function ok_token(extra)
  local body = { access_token = "tok", token_type = "Bearer", expires_in = 60 }
  for k, v in pairs(extra or {}) do body[k] = v end
  return { status = 200, headers = {}, body = ll.json.encode(body) }
end

local function new(fake, config)
  config.token_url = config.token_url or "https://as.example/token"
  config.http = fake
  return oauth.new(config)
end

local function fake_key()
  return {
    sign = function(_, _, input) return crypto.hmac_sha256("k", input, "raw") end,
    public_jwk = function() return { kty = "EC", crv = "P-256", x = "x", y = "y" } end,
  }
end

test("a public client (client_auth none) names itself in the form and sends no secret", function()
  local fake, log = endpoint(function() return ok_token() end)
  new(fake, { client_id = "pub", client_auth = "none" }):token()
  t.eq(log[1].form, { grant_type = "client_credentials", client_id = "pub" })
  t.eq(log[1].headers.Authorization, nil)
end)

test("without a secret the default is a public client; with one, client_secret_basic", function()
  local fake, log = endpoint(function() return ok_token() end)
  new(fake, { client_id = "pub" }):token()
  new(fake, { client_id = "conf", client_secret = "s" }):token()
  t.eq(log[1].form.client_id, "pub")
  t.truthy(log[2].headers.Authorization:find("^Basic "), "basic for a confidential client")
end)

test("client_secret_post sends the credentials as form fields", function()
  local fake, log = endpoint(function() return ok_token() end)
  new(fake, { client_id = "c", client_secret = "s", client_auth = "client_secret_post" }):token()
  t.eq(log[1].form, { grant_type = "client_credentials", client_id = "c", client_secret = "s" })
end)

test("private_key_jwt sends an RFC 7523 client assertion for the issuer", function()
  local fake, log = endpoint(function() return ok_token() end)
  new(fake, { client_id = "svc", private_key = fake_key(), issuer = "https://as.example", key_id = "k1",
    wall = function() return 1000 end }):token()
  local form = log[1].form
  t.eq(form.client_assertion_type, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
  local header, claims = jwt.decode(form.client_assertion)
  t.eq(header, { alg = "ES256", kid = "k1" })
  t.eq(claims.iss, "svc")
  t.eq(claims.sub, "svc")
  t.eq(claims.aud, "https://as.example")
  t.eq(claims.iat, 1000)
  t.eq(claims.exp, 1300)
  t.truthy(type(claims.jti) == "string" and #claims.jti > 10, "a jti")
end)

test("client_secret_jwt signs the assertion with the secret (HS256)", function()
  local fake, log = endpoint(function() return ok_token() end)
  new(fake, { client_id = "c", client_secret = "shh", client_auth = "client_secret_jwt" }):token()
  local claims = jwt.verify(log[1].form.client_assertion, "shh")
  t.eq(claims.aud, "https://as.example/token", "no issuer given: the token endpoint is the audience")
end)

test("the JWT bearer grant sends the assertion the script provides, fresh for every login", function()
  local n = 0
  local fake, log = endpoint(function() return ok_token() end)
  local cl = new(fake, { grant = "jwt_bearer", client_id = "wl", client_auth = "none", scope = "read",
    assertion = function() n = n + 1; return "jwt-" .. n end })
  cl:login()
  cl:login()
  t.eq(log[1].form, { grant_type = "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion = "jwt-1",
    client_id = "wl", scope = "read" })
  t.eq(log[2].form.assertion, "jwt-2")
end)

test("a failing assertion function makes the login fail without a request", function()
  local fake, log = endpoint(function() return ok_token() end)
  local cl = new(fake, { grant = "jwt_bearer", assertion = function() return nil, "idp down" end })
  local token, err = cl:token()
  t.eq(token, nil)
  t.eq(err, "idp down")
  t.eq(#log, 0)
end)

test("token exchange sends the RFC 8693 fields and accepts an issued token of type N_A", function()
  local fake, log = endpoint(function()
    return ok_token({ token_type = "N_A", issued_token_type = "urn:ietf:params:oauth:token-type:id-jag" })
  end)
  local cl = new(fake, { grant = "token_exchange", client_id = "idp-client", subject_token = "id-token",
    subject_token_type = "urn:ietf:params:oauth:token-type:id_token",
    requested_token_type = "urn:ietf:params:oauth:token-type:id-jag", audience = "https://as.example",
    resource = "https://mcp.example/mcp" })
  t.eq(cl:token(), "tok")
  t.eq(log[1].form, { grant_type = "urn:ietf:params:oauth:grant-type:token-exchange", client_id = "idp-client",
    subject_token = "id-token", subject_token_type = "urn:ietf:params:oauth:token-type:id_token",
    requested_token_type = "urn:ietf:params:oauth:token-type:id-jag", audience = "https://as.example",
    resource = "https://mcp.example/mcp" })
end)

test("resource and extra parameters go on every token request, refreshes included", function()
  local fake, log = endpoint(function(_, n) return ok_token({ refresh_token = "r" .. n }) end)
  local cl = new(fake, { client_id = "c", client_secret = "s", grant = "password", username = "u", password = "p",
    resource = "https://mcp.example/mcp", params = { audience = "api", prompt = "none" } })
  cl:login()
  cl:refresh()
  t.eq(log[1].form.resource, "https://mcp.example/mcp")
  t.eq(log[1].form.audience, "api")
  t.eq(log[2].form.grant_type, "refresh_token")
  t.eq(log[2].form.resource, "https://mcp.example/mcp")
  t.eq(log[2].form.prompt, "none")
end)

test("DPoP: a proof on the token request, one retry with the server's nonce, a DPoP token used as DPoP", function()
  local fake, log = endpoint(function(_, n)
    if n == 1 then
      return { status = 400, headers = { ["DPoP-Nonce"] = "as-n" }, body = '{"error":"use_dpop_nonce"}' }
    end
    return ok_token({ token_type = "DPoP" })
  end)
  local signer = oauth.dpop({ key = fake_key() })
  local cl = new(fake, { client_id = "c", client_auth = "none", dpop = signer })
  t.eq(cl:token(), "tok")
  t.eq(#log, 2)
  local _, first = jwt.decode(log[1].headers.DPoP)
  local _, second = jwt.decode(log[2].headers.DPoP)
  t.eq(first.htm, "POST")
  t.eq(first.htu, "https://as.example/token")
  t.eq(first.nonce, nil)
  t.eq(second.nonce, "as-n")
  local headers = cl:authorization_headers("GET", "https://rs.example/x", "tok")
  t.eq(headers.Authorization, "DPoP tok")
  local _, proof = jwt.decode(headers.DPoP)
  t.eq(proof.htm, "GET")
  t.truthy(proof.ath ~= nil, "ath binds the proof to the token")
end)

test("a private_key_jwt assertion from a PEM key verifies with its public key", function()
  local fake, log = endpoint(function() return ok_token() end)
  local pem = crypto.generate_key("ES256")
  new(fake, { client_id = "svc", private_key = pem, issuer = "https://as.example" }):token()
  local claims = jwt.verify(log[1].form.client_assertion, crypto.public_key(pem))
  t.truthy(claims ~= nil, "the assertion verifies")
  t.eq(claims.aud, "https://as.example")
  t.eq(log[1].form.client_id, "svc")
end)
