-- mcp_modern.lua: an MCP journey at revision 2026-07-28, the stateless one: no initialize, no session, every
-- request carrying its own protocol version, client info and capabilities.
--
-- Shows: a pinned protocol_version (no probe), server/discover (cached like the lists, for its ttlMs), tools/list
-- every iteration answered from the ttlMs cache (mcp_cache_hits) instead of the network, tool calls with progress
-- over SSE, a resource and a prompt, and a subscriptions/listen stream opened now and then. Thresholds on the
-- per-revision tag. Run it against the built-in target, which serves both eras on /mcp:
--
--   luaload target --listen 127.0.0.1:8080 &
--   luaload run examples/mcp_modern.lua -e TARGET=http://127.0.0.1:8080 -u 20 -d 30s
--
-- A 2026-07-28 session holds nothing on the server: requests of one VU may land on any instance behind a load
-- balancer, and opening (or closing) a session costs no request.
local mcp = require("luaload.mcp")
local ll = require("luaload")

options = {
  vus = 5,
  duration = "20s",
  thresholds = {
    mcp_errors = { "rate<0.01" },
    ["mcp_request_duration{mcp_version:2026-07-28}"] = { "p(95)<250" },
    ["mcp_tool_call_duration{mcp_tool:echo}"] = { "p(95)<50" },
    mcp_cache_hits = { "count>0" },
    checks = { "rate>0.99" },
  },
}

local base = ll.env.TARGET or "http://127.0.0.1:8080"
local kListenEvery = 10

local session
local iterations = 0

local function open_session()
  local s, err = mcp.connect(base .. "/mcp", { protocol_version = "2026-07-28", discover = true,
    client_info = { name = "mcp_modern-example", version = "1.0" } })
  if not ll.check(s, { ["session opened"] = function(v) return v ~= nil end }) then
    ll.fail(tostring(err))
  end
  ll.check(s, { ["server discovered"] = function(v) return v.server_capabilities ~= nil and v.id == nil end })
  return s
end

local function journey(s)
  -- Listed every iteration, sent once per ttlMs: the rest are cache hits.
  local tools = s:tools_list_all()
  ll.check(tools, { ["tools listed"] = function(t) return t ~= nil and #t >= 3 end })

  local echo = s:call_tool("echo", { text = "hello " .. ll.vu.id })
  ll.check(echo, { ["echo echoes"] = function(r) return r ~= nil and r.content[1].text == "hello " .. ll.vu.id end })

  local slow, err, notes = s:call_tool("slow", { delay_ms = 20 }, { progress = true })
  ll.check(slow, { ["slow finishes"] = function(r) return err == nil and r ~= nil end })
  ll.check(notes, { ["slow reports progress"] = function(n) return #n > 0 end })

  local config = s:resources_read("luaload://config")
  ll.check(config, { ["config read"] = function(r) return r ~= nil and r.contents[1] ~= nil end })

  local prompt = s:prompts_get("greet", { name = "Ada" })
  ll.check(prompt, { ["prompt rendered"] = function(r) return r ~= nil and #r.messages > 0 end })
end

-- A subscription to list changes, opened and closed within the iteration (a listen stream lasts one iteration).
local function listen_briefly(s)
  local listener = s:listen({ toolsListChanged = true })
  local open = listener:wait_open(5)
  ll.check(open, { ["subscription acknowledged"] = function(v) return v == true end })
  s:call_tool("echo", { text = "while listening" })
  listener:close()
  listener:wait()
end

function default()
  if session == nil then
    session = open_session()
  end
  journey(session)
  iterations = iterations + 1
  if iterations % kListenEvery == 0 then
    listen_briefly(session)
  end
  ll.sleep(0.05)
end
