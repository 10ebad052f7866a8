-- spike.lua: an open-model spike and recovery against the built-in target, with two scenarios side by side.
--
-- Shows: options.scenarios with ramping-arrival-rate (steady 20 it/s, a spike to 200 it/s for 10 s, back to 20)
-- next to a small constant-vus background journey; exec functions; per-scenario tags; thresholds on the honest
-- latency (http_req_duration_corrected) and on dropped_iterations for the spike scenario only. Run it:
--
--   luaload target --listen 127.0.0.1:8080 &
--   luaload run examples/spike.lua -e TARGET=http://127.0.0.1:8080
--   luaload inspect examples/spike.lua        # what will run, and for how long
--
-- With -d (as CI runs it: -d 3s) the command line replaces the scenarios with one constant-vus scenario running
-- default(), as k6 does; the spike thresholds then have no data and pass.
local http = require("luaload.http")
local ll = require("luaload")

options = {
  scenarios = {
    spike = {
      executor = "ramping-arrival-rate",
      exec = "visit",
      startRate = 20,
      stages = {
        { duration = "20s", target = 20 },   -- steady
        { duration = "5s", target = 200 },   -- the spike builds
        { duration = "10s", target = 200 },  -- and holds
        { duration = "5s", target = 20 },    -- recovery
        { duration = "20s", target = 20 },   -- back to normal: does latency come back too?
      },
      preAllocatedVUs = 20,
      maxVUs = 100,
      tags = { load = "spike" },
    },
    background = {
      executor = "constant-vus",
      exec = "browse",
      vus = 2,
      duration = "60s",
      tags = { load = "background" },
    },
  },
  thresholds = {
    ["http_req_duration_corrected{scenario:spike}"] = { "p(95)<500" },
    ["dropped_iterations{scenario:spike}"] = { "count<10" },
    http_req_failed = { "rate<0.01" },
  },
}

local base = ll.env.TARGET or "http://127.0.0.1:8080"

-- One arriving user of the spike: a single page view.
function visit()
  local res = http.get(base .. "/content/custom?latency=uniform:5ms-20ms", { tags = { name = "page" } })
  ll.check(res, { ["page is 200"] = function(r) return r.status == 200 end })
end

-- The steady background: a user browsing with think time.
function browse()
  http.get(base .. "/content/fast", { tags = { name = "content_fast" } })
  ll.sleep(0.5)
end

-- What -u/-d/-i/--stage run (they replace the scenarios).
function default()
  visit()
  ll.sleep(0.1)
end
