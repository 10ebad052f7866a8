-- SPDX-License-Identifier: MIT
-- luaload.oauth.dpop: DPoP proofs (RFC 9449). One key pair per DPoP object, generated on first use; a fresh
-- proof (new jti) for every request; server nonces (§8 token endpoint, §9 resource server) remembered per
-- origin from DPoP-Nonce headers and put in later proofs.
local jwt = require("luaload.oauth.jwt")
local encoding = require("luaload.encoding")
local crypto = require("luaload.crypto")

local type, setmetatable, tostring, os_time = type, setmetatable, tostring, os.time
local lower, match, find = string.lower, string.match, string.find

local M = {}

local Dpop = {}
Dpop.__index = Dpop

-- dpop.new({ alg = "ES256", key = <key or PEM>, wall = os.time }) -> a DPoP signer.
function M.new(opts)
  opts = opts or {}
  return setmetatable({ alg = opts.alg or "ES256", key = opts.key,
    wall = opts.wall or os_time, nonces = {} }, Dpop)
end

-- "scheme://host:port" of a URL, lower-cased (nonces are per server).
local function origin(url)
  return lower(match(url, "^(%a[%w+.-]*://[^/?#]+)") or url)
end

-- The htu claim: the request URI without query and fragment (§4.2).
function M.htu(url)
  return match(url, "^([^?#]*)")
end

function Dpop:_ensure_key()
  if self.key == nil then
    self.key = jwt.generate_key(self.alg)
  end
  if self.jwk == nil then
    self.jwk = jwt.public_jwk(self.key)
    self.jkt = jwt.thumbprint(self.jwk)
  end
end

-- The JWK thumbprint of this signer's key (what a bound token's cnf.jkt holds).
function Dpop:thumbprint()
  self:_ensure_key()
  return self.jkt
end

-- A proof for one request: `access_token` adds the ath claim (resource requests, §4.2).
function Dpop:proof(method, url, access_token)
  self:_ensure_key()
  local claims = {
    jti = encoding.base64url_encode(crypto.random_bytes(16)),
    htm = method,
    htu = M.htu(url),
    iat = self.wall(),
    nonce = self.nonces[origin(url)],
  }
  if access_token then
    claims.ath = encoding.base64url_encode(crypto.sha256(access_token, "raw"))
  end
  return jwt.sign(claims, self.key, { alg = self.alg, header = { typ = "dpop+jwt", jwk = self.jwk } })
end

-- Remembers the DPoP-Nonce a server sent (on any answer); returns true when it is a new value.
function Dpop:remember_nonce(url, headers)
  local nonce = headers and headers["DPoP-Nonce"]
  if type(nonce) ~= "string" or nonce == "" then
    return false
  end
  local key = origin(url)
  local changed = self.nonces[key] ~= nonce
  self.nonces[key] = nonce
  return changed
end

-- Whether an answer is a use_dpop_nonce challenge: a token endpoint's 400 {"error":"use_dpop_nonce"} (§8) or a
-- resource server's 401 with WWW-Authenticate: DPoP error="use_dpop_nonce" (§9).
function M.is_nonce_challenge(res)
  if res.status == 401 then
    local challenge = res.headers and res.headers["WWW-Authenticate"]
    return type(challenge) == "string" and find(challenge, "use_dpop_nonce", 1, true) ~= nil
  end
  return res.status == 400 and type(res.body) == "string" and find(res.body, "use_dpop_nonce", 1, true) ~= nil
end

M.origin = origin
Dpop.__tostring = function(d) return "luaload.oauth.dpop(" .. tostring(d.alg) .. ")" end

return M
