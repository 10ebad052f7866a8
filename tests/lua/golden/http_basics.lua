-- The luaload.http surface against the built-in target: status, case-insensitive headers, bodies, json params,
-- redirects, failures as results.
local http = require("luaload.http")
local ll = require("luaload")
local base = ll.env.TARGET

function default()
  local res = http.get(base .. "/health")
  print("health", res.status, res.body, res.headers["content-type"], res.headers["CONTENT-TYPE"], res.proto)

  local echo = http.post(base .. "/echo?x=1", nil, { json = { user = "u1", tags = { "a", "b" } },
                                                      headers = { ["X-Trace"] = "t-1" } })
  local seen = echo:json()
  local sent = require("luaload").json.decode(seen.body)
  print("echo", echo.status, seen.method, seen.path, seen.query, seen.headers["x-trace"],
        seen.headers["content-type"], sent.user, sent.tags[1], sent.tags[2])

  local form = http.put(base .. "/echo", nil, { form = { b = "x y", a = { "1", "2" } } })
  print("form", form:json().body, form:json().headers["content-type"])

  local hops = http.get(base .. "/redirect/2")
  print("redirect", hops.status, hops.body, hops.url == base .. "/redirect/0")
  local stopped = http.get(base .. "/redirect/2", { redirects = 0 })
  print("no-follow", stopped.status, stopped.headers["location"])

  local missing = http.get(base .. "/status/404")
  print("status", missing.status, missing.body, missing.error)

  local refused = http.get("http://127.0.0.1:1/")
  print("refused", refused.status, refused.error_code, refused.error ~= nil)

  local ok, err = pcall(http.get, base .. "/health", { timeout = "soon" })
  print("bad timeout", ok, (err:gsub("^.-: ", "", 1)))
end
