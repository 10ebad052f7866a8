-- sse_stream.lua: a VU holds a server-sent events stream open while it keeps using the API.
--
-- Shows: http.sse and reader:events(), ll.spawn (a background task of the VU) and task:wait(), reader:close(),
-- and thresholds on the stream metrics. Run it against the built-in target:
--
--   luaload target --listen 127.0.0.1:8080 &
--   luaload run examples/sse_stream.lua -e TARGET=http://127.0.0.1:8080 -u 20 -d 30s
local http = require("luaload.http")
local ll = require("luaload")

options = {
  vus = 5,
  duration = "20s",
  thresholds = {
    http_req_failed = { "rate<0.01" },
    stream_time_to_first_event = { "p(95)<200" },
    ["http_req_duration{name:content_fast}"] = { "p(95)<100" },
    checks = { "rate>0.99" },
  },
}

local target = ll.env.TARGET or "http://127.0.0.1:8080"

function default()
  -- 10 "tick" events, 100 ms apart: the stream stays open for about a second.
  local reader = http.sse(target .. "/sse?events=10&interval=100ms", { idle_timeout = "5s" })
  ll.check(reader, { ["stream opened"] = function(r) return r.status == 200 end })

  -- The task reads the stream; the VU itself goes on with other requests meanwhile.
  local listener = ll.spawn(function()
    local ticks = 0
    for ev in reader:events() do
      if ev.event == "tick" then
        ticks = ticks + 1
      end
    end
    return ticks, reader.error
  end)

  for _ = 1, 3 do
    local res = http.get(target .. "/content/fast", { tags = { name = "content_fast" } })
    ll.check(res, { ["content 200"] = function(r) return r.status == 200 end })
    ll.sleep(0.2)
  end

  local ticks, err = listener:wait()
  ll.check(ticks, { ["all ticks received"] = function(n) return n == 10 and err == nil end })
  reader:close()  -- already at its end here; closing early would be fine too
end
