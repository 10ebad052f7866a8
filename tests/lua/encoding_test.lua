-- SPDX-License-Identifier: MIT
-- luaload.encoding: form encoding (the one http.lua uses for params.form), form decoding, base64, url encoding.
local encoding = require("luaload.encoding")
local http = require("luaload.http")

test("form_encode sorts keys and percent-encodes per RFC 3986", function()
  t.eq(encoding.form_encode({ b = "x y", a = "1&2", c = "é~" }), "a=1%262&b=x%20y&c=%C3%A9~")
end)

test("form_encode repeats the key for array values", function()
  t.eq(encoding.form_encode({ scope = { "read", "write" }, z = 1 }), "scope=read&scope=write&z=1")
end)

test("form_encode is the encoder of http params.form", function()
  t.truthy(encoding.form_encode == http.encode_form, "one shared implementation")
end)

test("form_decode turns plus into space, decodes escapes and collects repeated keys", function()
  t.eq(encoding.form_decode("a=1&b=x+y%21&a=2&empty=&flag"), { a = { "1", "2" }, b = "x y!", empty = "", flag = "" })
end)

test("form_decode of form_encode gives the fields back", function()
  local fields = { grant_type = "password", username = "u 1", password = "p&ss=word" }
  t.eq(encoding.form_decode(encoding.form_encode(fields)), fields)
end)

test("form_decode rejects a malformed escape", function()
  t.raises(function() encoding.form_decode("a=%zz") end, "encoding.form_decode: malformed percent-encoding")
end)

test("base64 round-trips binary data with padding", function()
  t.eq(encoding.base64_encode("fo\0\255"), "Zm8A/w==")
  t.eq(encoding.base64_decode("Zm8A/w=="), "fo\0\255")
end)

test("base64url has no padding and the url alphabet", function()
  t.eq(encoding.base64url_encode("fo\0\255"), "Zm8A_w")
  t.eq(encoding.base64url_decode("Zm8A_w"), "fo\0\255")
end)

test("base64_decode raises a clear error on invalid input", function()
  t.raises(function() encoding.base64_decode("Zm9v!") end, "encoding.base64_decode: invalid base64 input")
  t.raises(function() encoding.base64url_decode("Zm8A/w") end, "encoding.base64url_decode: invalid base64url input")
end)

test("url_encode keeps unreserved characters only", function()
  t.eq(encoding.url_encode("a b/c?d=e&f~g.h_i-j"), "a%20b%2Fc%3Fd%3De%26f~g.h_i-j")
  t.eq(encoding.url_decode("a%20b+c"), "a b+c")
  t.eq(encoding.url_decode("a%20b+c", true), "a b c")
end)
