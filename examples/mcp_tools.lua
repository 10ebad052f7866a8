-- mcp_tools.lua: MCP tool calls over the streamable HTTP transport, one MCP session per VU, whatever revision the
-- server speaks.
--
-- Shows: luaload.mcp sessions with protocol_version "auto" (2026-07-28 when the server speaks it, else the 2025
-- initialize handshake, Mcp-Session-Id and MCP-Protocol-Version handled for you; session.protocol_version says
-- which), tools/list, then tools/call in a loop (echo, add, and slow with progress notifications that arrive over
-- SSE before the result), errors as values, checks, and thresholds per tool on mcp_tool_call_duration. Run it
-- against the built-in target:
--
--   luaload target --listen 127.0.0.1:8080 &
--   luaload run examples/mcp_tools.lua -e TARGET=http://127.0.0.1:8080 -u 20 -d 30s
--
-- Session life: init code cannot do network calls, so each VU opens its session lazily in its first iteration and
-- keeps it in a VU-local. A VU closes its session (HTTP DELETE for a 2025 session; nothing to send in 2026-07-28)
-- after kCallsPerSession iterations and opens a new one in the next; a session still open when the VU retires at
-- the end of the test is closed then (ll.on_vu_end).
local mcp = require("luaload.mcp")
local ll = require("luaload")

options = {
  vus = 5,
  duration = "20s",
  thresholds = {
    mcp_errors = { "rate<0.01" },
    ["mcp_tool_call_duration{mcp_tool:echo}"] = { "p(95)<50" },
    ["mcp_tool_call_duration{mcp_tool:add}"] = { "p(95)<50" },
    -- slow waits 50 ms on a server timer (give or take a millisecond of timer granularity), never much longer.
    ["mcp_tool_call_duration{mcp_tool:slow}"] = { "min>=40", "p(95)<250" },
    ["mcp_request_duration{mcp_method:tools/list}"] = { "p(95)<50" },
    checks = { "rate>0.99" },
  },
}

local kCallsPerSession = 20
local base = ll.env.TARGET or "http://127.0.0.1:8080"

-- VU-local: top-level locals belong to one VU.
local session
local calls = 0

local function open_session()
  local s, err = mcp.connect(base .. "/mcp", { reinitialize = true })
  if not ll.check(s, { ["session opened"] = function(v) return v ~= nil end }) then
    ll.fail(tostring(err))
  end
  local tools = s:tools_list_all()
  ll.check(tools, { ["server has 3 tools"] = function(t) return t ~= nil and #t == 3 end })
  return s
end

local function call_tools(s)
  local echo = s:call_tool("echo", { text = "hello " .. ll.vu.id })
  ll.check(echo, { ["echo echoes"] = function(r) return r.content[1].text == "hello " .. ll.vu.id end })

  local sum = s:call_tool("add", { a = ll.vu.id, b = calls })
  ll.check(sum, { ["add adds"] = function(r) return r.structuredContent.sum == ll.vu.id + calls end })

  -- progress = true asks for notifications/progress; the target then answers over SSE: 4 notifications, then
  -- the result, all in one response matched by JSON-RPC id.
  local slow, err, notes = s:call_tool("slow", { delay_ms = 50 }, { progress = true })
  ll.check(slow, { ["slow finishes"] = function(r) return err == nil and r.content[1].text == "waited 50 ms" end })
  ll.check(notes, { ["slow reports progress"] = function(n) return #n == 4 end })
end

function default()
  if session == nil then
    session = open_session()
    calls = 0
  end
  call_tools(session)
  calls = calls + 1
  if calls >= kCallsPerSession then
    session:close()
    session = nil
  end
  ll.sleep(0.05)
end
