-- luaload.encoding and luaload.crypto on known vectors (RFC 4648, FIPS 180-2, RFC 4231).
local encoding = require("luaload.encoding")
local crypto = require("luaload.crypto")

function default()
  print("base64", encoding.base64_encode("foobar"), encoding.base64_decode("Zm9vYmE="))
  print("base64url", encoding.base64url_encode("\251\255"), encoding.base64url_decode("-_8") == "\251\255")
  print("url", encoding.url_encode("a b&c/é"))
  print("form", encoding.form_encode({ b = "x y", a = "1" }))
  print("sha256", crypto.sha256("abc"))
  print("hmac", crypto.hmac_sha256("key", "The quick brown fox jumps over the lazy dog"))
  print("uuid", #crypto.uuid(), crypto.uuid():sub(15, 15))
  local ok, err = pcall(encoding.base64_decode, "%%%")
  print("bad base64", ok, (err:gsub("^.-: ", "", 1)))
end
