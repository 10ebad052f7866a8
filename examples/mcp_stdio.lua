-- mcp_stdio.lua: an MCP server that runs as a local process, one per VU, spoken to over stdin/stdout.
--
-- Shows: mcp.spawn (the server here is luaload's own built-in target in stdio mode: `luaload target --stdio`),
-- the era the client detected (a server/discover probe, then 2026-07-28, or initialize for a 2025 server), tool
-- calls with progress notifications, a resource read, metrics tagged mcp_transport:stdio, and a process that is
-- restarted when it dies (reinitialize). Nothing else needs to run:
--
--   luaload run examples/mcp_stdio.lua -u 5 -d 20s
--
-- Each VU starts its own server process on its first iteration and keeps it; the process is stopped when the VU
-- retires (end of input, then SIGTERM, then SIGKILL), Ctrl-C included. `shared = true` in the spec would give one
-- process per worker thread for all its VUs instead.
local mcp = require("luaload.mcp")
local ll = require("luaload")

options = {
  vus = 3,
  duration = "10s",
  thresholds = {
    mcp_errors = { "rate<0.01" },
    ["mcp_tool_call_duration{mcp_transport:stdio,mcp_tool:echo}"] = { "p(95)<50" },
    ["mcp_tool_call_duration{mcp_tool:slow}"] = { "min>=40", "p(95)<250" },
    checks = { "rate>0.99" },
  },
}

-- The luaload binary running this script (ll.executable), or the one named with -e LUALOAD=...
local luaload_binary = ll.env.LUALOAD or ll.executable or "luaload"

local session  -- VU-local: one server process per VU

local function open_session()
  local s, err = mcp.spawn({ command = luaload_binary, args = { "target", "--stdio" } }, { reinitialize = true })
  if not s then
    error("cannot start the stdio server: " .. tostring(err))
  end
  return s
end

function default()
  session = session or open_session()

  local result, err = session:call_tool("echo", { text = "hello over stdio" })
  ll.check(result, {
    ["echo answers"] = function(r) return err == nil and r.content[1].text == "hello over stdio" end,
  })

  local notes
  result, err, notes = session:call_tool("slow", { delay_ms = 50 }, { progress = true })
  ll.check(result, {
    ["slow finishes"] = function() return err == nil end,
    ["slow reports progress"] = function() return #notes > 0 end,
  })

  result, err = session:resources_read("luaload://readme")
  ll.check(result, { ["readme reads"] = function(r) return err == nil and #r.contents == 1 end })
end
