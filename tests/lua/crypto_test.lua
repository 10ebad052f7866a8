-- SPDX-License-Identifier: MIT
-- luaload.crypto from Lua: output encodings and argument errors (the digests themselves: crypto_test.cpp).
local crypto = require("luaload.crypto")

test("sha256 is hex by default and raw, base64 or base64url on request", function()
  t.eq(crypto.sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  t.eq(#crypto.sha256("abc", "raw"), 32)
  t.eq(crypto.sha256("abc", "base64"), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")
  t.eq(crypto.sha256("abc", "base64url"), "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0")
end)

test("hmac_sha256 takes the key first", function()
  t.eq(crypto.hmac_sha256("Jefe", "what do ya want for nothing?"),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
end)

test("random_bytes and uuid", function()
  t.eq(#crypto.random_bytes(16), 16)
  t.eq(#crypto.random_bytes(16, "hex"), 32)
  t.truthy(crypto.uuid():match("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$"), "uuid v4 shape")
end)

test("bad arguments raise clear errors", function()
  t.raises(function() crypto.sha256("x", "base32") end, "crypto.sha256: output encoding must be \"hex\"")
  t.raises(function() crypto.random_bytes(-1) end, "must be a whole number of bytes")
  t.raises(function() crypto.random_bytes(1.5) end, "must be a whole number of bytes")
  t.raises(function() crypto.sha256(nil) end, "string expected")
end)
