-- breaking_point.lua: find the highest arrival rate the built-in target sustains under this script's thresholds.
--
-- Shows: options.breakingPoint (the same as `luaload run --find-breaking-point`): the arrival rate starts at 25
-- iterations/s and rises by 25 every 5 s until a threshold fails on one step's own samples, or more than 5 % of
-- the requests fail. With at most 10 VUs and a 50 ms backend, the target holds about 200 it/s: past that,
-- iterations wait for a free VU and http_req_duration_corrected shows it while plain http_req_duration stays at
-- 50 ms (see docs/latency.md). The summary ends with the per-step curve and the answer; --summary-export has it
-- as "breaking_point". Run it:
--
--   luaload target --listen 127.0.0.1:8080 &
--   luaload run examples/breaking_point.lua -e TARGET=http://127.0.0.1:8080
--
-- -d caps the whole search (CI runs it with -d 3s: one short step at 25 it/s, which holds).
local http = require("luaload.http")
local ll = require("luaload")

options = {
  breakingPoint = {
    startRate = 25,
    stepRate = 25,
    stepDuration = "5s",
    maxRate = 1000,
    maxErrorRate = 0.05,
    preAllocatedVUs = 10,
    maxVUs = 10,
  },
  thresholds = {
    http_req_duration_corrected = { "p(95)<250" },
    checks = { "rate>0.99" },
  },
}

local base = ll.env.TARGET or "http://127.0.0.1:8080"

function default()
  local res = http.get(base .. "/content/custom?latency=fixed:50ms", { tags = { name = "backend" } })
  ll.check(res, { ["status is 200"] = function(r) return r.status == 200 end })
end
