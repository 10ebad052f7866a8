-- content_api.lua: a plain API journey against the built-in target, with groups, checks and thresholds.
--
-- Shows: http.get/post with JSON, per-request names (tags), groups, checks, sleep (think time), and thresholds
-- on a sub-metric. Run it against the built-in target:
--
--   luaload target --listen 127.0.0.1:8080 &
--   luaload run examples/content_api.lua -e TARGET=http://127.0.0.1:8080 -u 20 -d 30s
--
-- (`luaload demo` runs it for you against a target started in-process.)
local http = require("luaload.http")
local ll = require("luaload")

options = {
  vus = 10,
  duration = "20s",
  thresholds = {
    http_req_failed = { "rate<0.01" },
    ["http_req_duration{name:content_fast}"] = { "p(95)<100" },
    ["http_req_duration{name:echo}"] = { "p(95)<100" },
    checks = { "rate>0.99" },
  },
}

local base = ll.env.TARGET or "http://127.0.0.1:8080"

function default()
  ll.group("browse", function()
    local res = http.get(base .. "/content/fast", { tags = { name = "content_fast" } })
    ll.check(res, {
      ["content is 200"] = function(r) return r.status == 200 end,
      ["content is json"] = function(r) return r:json() ~= nil end,
    })
  end)

  ll.group("post", function()
    local res = http.post(base .. "/echo", nil, {
      json = { user = "u" .. ll.vu.id, iteration = ll.vu.iteration },
      tags = { name = "echo" },
    })
    ll.check(res, { ["echo is 200"] = function(r) return r.status == 200 end })
  end)

  ll.sleep(0.1)
end
