-- SPDX-License-Identifier: MIT
-- PKCE (RFC 7636) helpers of luaload.oauth.
local oauth = require("luaload.oauth")

local encoding = require("luaload.encoding")

test("the S256 challenge matches RFC 7636 Appendix B", function()
  local octets = string.char(116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
    37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121)
  t.eq(encoding.base64url_encode(octets), "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
  local pkce = oauth.pkce("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
  t.eq(pkce.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
  t.eq(pkce.method, "S256")
end)

test("a generated verifier is 43 base64url characters and differs every time", function()
  local a, b = oauth.pkce(), oauth.pkce()
  t.eq(#a.verifier, 43)
  t.truthy(not a.verifier:find("[^%w%-_]"), "base64url alphabet only")
  t.truthy(a.verifier ~= b.verifier, "fresh randomness")
  t.eq(a.challenge, oauth.pkce_challenge(a.verifier))
end)

test("a verifier shorter than 43 characters is refused", function()
  t.raises(function() oauth.pkce("short") end, "oauth.pkce: a verifier is 43 to 128 characters")
end)
