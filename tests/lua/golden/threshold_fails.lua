-- A failed threshold is exit code 99; with --no-summary only what the script prints reaches stdout.
local http = require("luaload.http")
local ll = require("luaload")

options = { thresholds = { http_req_failed = { "rate<0.01" }, checks = { "rate==1" } } }

function default()
  local res = http.get(ll.env.TARGET .. "/status/503")
  print("got", res.status, ll.check(res, { ["is 200"] = function(r) return r.status == 200 end }))
end
