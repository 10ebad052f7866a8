-- SPDX-License-Identifier: MIT
-- The luaload side of the MCP conformance suite's client scenarios (run by client.sh, one iteration, one VU).
-- It picks the scenario the suite names in MCP_CONFORMANCE_SCENARIO and runs it; the run passes (exit 0) when the
-- scenario function returns, and fails (exit 99, the "scenario passed" check's threshold) when it raises.
--
-- Scenario modules (scenarios/core.lua: every scenario but auth/*, owned by the core helper; scenarios/auth.lua:
-- auth/*, owned by the auth helper) return a table of functions keyed by scenario name:
--
--   return { ["tools_call"] = function(ctx) ... end, ... }
--
-- called in the VU's iteration (network allowed) with
--   ctx.url               the scenario server's URL (the suite's last argument)
--   ctx.scenario          the scenario name (MCP_CONFORMANCE_SCENARIO)
--   ctx.protocol_version  the revision the suite runs the scenario at (MCP_CONFORMANCE_PROTOCOL_VERSION), or nil
--   ctx.context           MCP_CONFORMANCE_CONTEXT decoded (credentials, keys, ...), or an empty table
-- A scenario function uses luaload.mcp (and luaload.oauth) only: no protocol written by hand. It returns when the
-- client did its part, and raises (error(message)) when it could not; the message is printed on stderr.
local ll = require("luaload")

options = {
  thresholds = { checks = { "rate==1" } },
}

local function scenario_context()
  local raw = ll.env.MCP_CONFORMANCE_CONTEXT
  return {
    url = ll.env.MCP_CONFORMANCE_URL,
    scenario = ll.env.MCP_CONFORMANCE_SCENARIO,
    protocol_version = ll.env.MCP_CONFORMANCE_PROTOCOL_VERSION,
    context = (raw and raw ~= "") and ll.json.decode(raw) or {},
  }
end

local function scenario_function(name)
  if name == nil or name == "" then
    error("MCP_CONFORMANCE_SCENARIO is not set (client.lua is run by the conformance suite)", 0)
  end
  local module = name:find("^auth/") and require("scenarios.auth") or require("scenarios.core")
  local fn = module[name]
  if fn == nil then
    error("not implemented: " .. name, 0)
  end
  return fn
end

function default()
  local ctx = scenario_context()
  local ok, err = pcall(function() scenario_function(ctx.scenario)(ctx) end)
  if not ok then
    io.stderr:write("conformance client: ", tostring(ctx.scenario), ": ", tostring(err), "\n")
  end
  ll.check(ok, { ["scenario passed"] = function(passed) return passed end })
end
