-- An SSE stream read event by event (luaload.http sse reader) against the target's /sse route.
local http = require("luaload.http")
local ll = require("luaload")

function default()
  local reader = http.sse(ll.env.TARGET .. "/sse?events=3&interval=10ms")
  print("status", reader.status, reader.headers["content-type"])
  for event in reader:events() do
    print("event", event.event, event.id, event.data)
  end
  print("ended", reader.error)
end
