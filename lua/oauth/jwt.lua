-- SPDX-License-Identifier: MIT
-- luaload.oauth.jwt: compact JWS (RFC 7515) / JWT (RFC 7519) encoding for client assertions (RFC 7523), DPoP
-- proofs (RFC 9449) and reading token claims. Signing is luaload.crypto's (ES256, RS256, PS256); HS256 uses
-- crypto.hmac_sha256. decode() does not verify: the client only reads its own tokens' claims.
--
-- Keys are luaload.crypto's: PEM strings (crypto.generate_key makes PKCS#8 ones; crypto.sign(alg, pem, data) gives
-- the JOSE signature, r||s for ES256; crypto.public_jwk(pem) the public JWK). A key may also be a table with
-- methods sign(self, alg, data) and public_jwk(self) (a signer of the script's own, a test double).
local encoding = require("luaload.encoding")
local crypto = require("luaload.crypto")
local ll = require("luaload")

local type, pcall, error, tostring, pairs, ipairs = type, pcall, error, tostring, pairs, ipairs
local format, concat = string.format, table.concat
local json = ll.json

local M = {}

M.ALGORITHMS = { ES256 = true, RS256 = true, PS256 = true, HS256 = true }

local b64u, unb64u = encoding.base64url_encode, encoding.base64url_decode

local function segment(value)
  return b64u(json.encode(value))
end

local function need_crypto(name)
  local fn = crypto[name]
  if type(fn) ~= "function" then
    error("luaload.crypto." .. name .. " is not available in this build (JWT signing needs it)", 3)
  end
  return fn
end

-- A fresh key pair for `alg` (default ES256).
function M.generate_key(alg)
  return need_crypto("generate_key")(alg or "ES256")
end

-- The public JWK of a key, as a table.
function M.public_jwk(key)
  if type(key) == "table" and type(key.public_jwk) == "function" then
    return key:public_jwk()
  end
  return need_crypto("public_jwk")(key)
end

-- The RFC 7638 thumbprint: BASE64URL(SHA-256(the required members, sorted, no whitespace)).
function M.thumbprint(jwk)
  local members
  if jwk.kty == "EC" then
    members = { "crv", "kty", "x", "y" }
  elseif jwk.kty == "RSA" then
    members = { "e", "kty", "n" }
  elseif jwk.kty == "OKP" then
    members = { "crv", "kty", "x" }
  else
    error("jwt.thumbprint: unsupported key type " .. tostring(jwk.kty), 2)
  end
  local parts = {}
  for i, name in ipairs(members) do
    parts[i] = format("%q:%q", name, tostring(jwk[name]))
  end
  return b64u(crypto.sha256("{" .. concat(parts, ",") .. "}", "raw"))
end

local function signature(alg, key, input)
  if alg == "HS256" then
    return crypto.hmac_sha256(key, input, "raw")
  end
  if type(key) == "table" and type(key.sign) == "function" then
    return key:sign(alg, input)  -- a key object of the script's own (an HSM stand-in, a test double)
  end
  return need_crypto("sign")(alg, key, input)
end

-- Signs `claims` into a compact JWS. opts: alg (default ES256), header (extra header fields: typ, kid, jwk...).
function M.sign(claims, key, opts)
  opts = opts or {}
  local alg = opts.alg or "ES256"
  if not M.ALGORITHMS[alg] then
    error("jwt.sign: unsupported alg " .. tostring(alg) .. " (ES256, RS256, PS256, HS256)", 2)
  end
  local header = { alg = alg }
  for name, value in pairs(opts.header or {}) do
    header[name] = value
  end
  local input = segment(header) .. "." .. segment(claims)
  return input .. "." .. b64u(signature(alg, key, input))
end

local function decode_segment(text)
  local ok, raw = pcall(unb64u, text)
  if not ok then
    return nil
  end
  local ok2, value = pcall(json.decode, raw)
  if ok2 and type(value) == "table" then
    return value
  end
  return nil
end

-- header, claims of a compact JWS, without verification; nil, message when `token` is not one.
function M.decode(token)
  if type(token) ~= "string" then
    return nil, "not a string"
  end
  local h, p, s = token:match("^([%w_%-]+)%.([%w_%-]+)%.([%w_%-]*)$")
  if not h then
    return nil, "not a compact JWS"
  end
  local header, claims = decode_segment(h), decode_segment(p)
  if not header or not claims then
    return nil, "a JWT segment is not base64url JSON"
  end
  return header, claims, s
end

-- The claims of `token` if its signature verifies with `key` (HS256: the shared secret), else nil, message.
function M.verify(token, key)
  local header, claims, sig = M.decode(token)
  if not header then
    return nil, claims
  end
  local input = token:match("^([^.]+%.[^.]+)%.")
  local ok
  if header.alg == "HS256" then
    ok = b64u(crypto.hmac_sha256(key, input, "raw")) == sig
  elseif M.ALGORITHMS[header.alg] then
    ok = need_crypto("verify")(header.alg, key, input, unb64u(sig))
  end
  if not ok then
    return nil, "signature does not verify"
  end
  return claims
end

return M
