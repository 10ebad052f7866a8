-- SPDX-License-Identifier: MIT
-- luaload.oauth.jwt and luaload.oauth.dpop: compact JWS encoding, decoding, HS256, the RFC 7638 thumbprint and
-- DPoP proof claims (with a key object standing in for luaload.crypto's signing).
local jwt = require("luaload.oauth.jwt")
local dpop = require("luaload.oauth.dpop")
local encoding = require("luaload.encoding")
local crypto = require("luaload.crypto")

-- A key object: "signs" with HMAC so the test can check the input, and has a fixed public JWK.
local function fake_key()
  local key = { signed = {} }
  function key:sign(alg, input)
    self.signed[#self.signed + 1] = { alg = alg, input = input }
    return crypto.hmac_sha256("fake", input, "raw")
  end
  function key:public_jwk()
    return { kty = "EC", crv = "P-256", x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
      y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" }
  end
  return key
end

test("HS256 tokens round-trip and verify only with their secret", function()
  local token = jwt.sign({ sub = "u1", exp = 100 }, "secret", { alg = "HS256", header = { typ = "JWT" } })
  local header, claims = jwt.decode(token)
  t.eq(header, { alg = "HS256", typ = "JWT" })
  t.eq(claims, { sub = "u1", exp = 100 })
  t.eq(jwt.verify(token, "secret"), { sub = "u1", exp = 100 })
  t.eq(jwt.verify(token, "other"), nil)
end)

test("decode refuses what is not a compact JWS", function()
  t.eq(jwt.decode("opaque-token"), nil)
  t.eq(jwt.decode("a.b.c"), nil, "segments that are not base64url JSON")
  t.eq(jwt.decode(nil), nil)
end)

test("the RFC 7638 thumbprint of the RFC's example key", function()
  local jwk = { kty = "RSA", e = "AQAB", alg = "RS256", kid = "2011-04-29",
    n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCi"
      .. "FV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7"
      .. "d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-"
      .. "csFCur-kEgU8awapJzKnqDKgw" }
  t.eq(jwt.thumbprint(jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
end)

test("a key object signs the header.payload input", function()
  local key = fake_key()
  local token = jwt.sign({ iss = "c" }, key, { alg = "ES256", header = { kid = "k1" } })
  local header = jwt.decode(token)
  t.eq(header, { alg = "ES256", kid = "k1" })
  t.eq(key.signed[1].alg, "ES256")
  t.eq(key.signed[1].input, token:match("^([^.]+%.[^.]+)"))
end)

test("a DPoP proof carries typ, the public JWK, htm, htu without query, iat, a fresh jti and ath", function()
  local signer = dpop.new({ key = fake_key(), wall = function() return 1234 end })
  local p1 = signer:proof("POST", "https://RS.example/mcp?x=1#f", "tok")
  local p2 = signer:proof("POST", "https://RS.example/mcp?x=1#f", "tok")
  local header, claims = jwt.decode(p1)
  t.eq(header.typ, "dpop+jwt")
  t.eq(header.jwk.kty, "EC")
  t.eq(header.jwk.d, nil, "no private part")
  t.eq(claims.htm, "POST")
  t.eq(claims.htu, "https://RS.example/mcp")
  t.eq(claims.iat, 1234)
  t.eq(claims.ath, encoding.base64url_encode(crypto.sha256("tok", "raw")))
  local _, claims2 = jwt.decode(p2)
  t.truthy(claims.jti ~= claims2.jti, "every proof has its own jti")
  t.eq(signer:thumbprint(), jwt.thumbprint(header.jwk))
end)

test("DPoP nonces are remembered per origin and put in later proofs", function()
  local signer = dpop.new({ key = fake_key() })
  t.eq(signer:remember_nonce("https://as.example/token", { ["DPoP-Nonce"] = "n1" }), true)
  t.eq(signer:remember_nonce("https://as.example/token", { ["DPoP-Nonce"] = "n1" }), false, "not new")
  local _, at_as = jwt.decode(signer:proof("POST", "https://AS.example/other"))
  local _, at_rs = jwt.decode(signer:proof("POST", "https://rs.example/mcp"))
  t.eq(at_as.nonce, "n1")
  t.eq(at_rs.nonce, nil)
  t.eq(dpop.is_nonce_challenge({ status = 400, body = '{"error":"use_dpop_nonce"}' }), true)
  t.eq(dpop.is_nonce_challenge({ status = 401, headers = { ["WWW-Authenticate"] = 'DPoP error="use_dpop_nonce"' } }),
    true)
  t.eq(dpop.is_nonce_challenge({ status = 401, headers = { ["WWW-Authenticate"] = 'Bearer error="invalid_token"' } }),
    false)
end)

test("ES256, RS256 and PS256 tokens signed with luaload.crypto keys verify with them, and only with them", function()
  for _, alg in ipairs({ "ES256", "RS256", "PS256" }) do
    local key, other = jwt.generate_key(alg), jwt.generate_key(alg)
    local token = jwt.sign({ iss = "c", n = 1 }, key, { alg = alg })
    local header = jwt.decode(token)
    t.eq(header.alg, alg)
    t.eq(jwt.verify(token, key), { iss = "c", n = 1 }, alg)
    t.eq(jwt.verify(token, crypto.public_key(key)), { iss = "c", n = 1 }, alg .. " with the public key")
    t.eq(jwt.verify(token, other), nil, alg .. " with another key")
  end
  local es = jwt.sign({}, jwt.generate_key("ES256"), { alg = "ES256" })
  t.eq(#encoding.base64url_decode(es:match("%.([^.]*)$")), 64, "ES256 signatures are JOSE r||s, not DER")
end)

test("a DPoP proof from a generated key carries its public JWK, whose thumbprint matches luaload.crypto's", function()
  local signer = dpop.new()
  local proof = signer:proof("GET", "https://rs.example/mcp", "tok")
  local header = jwt.decode(proof)
  t.eq(header.alg, "ES256")
  t.eq(header.jwk.kty, "EC")
  t.eq(header.jwk.crv, "P-256")
  t.eq(header.jwk.d, nil)
  t.eq(signer:thumbprint(), crypto.jwk_thumbprint(header.jwk))
  t.truthy(jwt.verify(proof, signer.key) ~= nil, "the proof verifies with the signer's key")
end)
