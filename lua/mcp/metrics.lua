-- SPDX-License-Identifier: MIT
-- The metrics of luaload.mcp, defined once per worker on the first require("luaload.mcp") (scripts that do not use
-- MCP get none). Every sample carries the session's tags (see tags()). docs/mcp.md lists them.
local ll = require("luaload")

local pairs = pairs
local Trend, Counter, Rate = ll.metrics.Trend, ll.metrics.Counter, ll.metrics.Rate

local M = {
  request_duration = Trend("mcp_request_duration", true),
  tool_call_duration = Trend("mcp_tool_call_duration", true),
  errors = Rate("mcp_errors"),
  sessions = Counter("mcp_sessions"),
  time_to_first_event = Trend("mcp_time_to_first_event", true),
  progress_interval = Trend("mcp_progress_interval", true),
  stream_resumptions = Counter("mcp_stream_resumptions"),
  server_requests = Counter("mcp_server_requests"),
  input_required = Counter("mcp_input_required"),
  version_fallbacks = Counter("mcp_version_fallbacks"),
  version_probe_duration = Trend("mcp_version_probe_duration", true),
  cache_hits = Counter("mcp_cache_hits"),
}

-- The tags of an MCP sample: the session's opts.tags plus mcp_method, mcp_tool, mcp_version, mcp_transport.
function M.tags(session, method, tool)
  local tags = {}
  for k, v in pairs(session.opts.tags or {}) do
    tags[k] = v
  end
  tags.mcp_method = method
  tags.mcp_tool = tool
  tags.mcp_version = session.protocol_version or session.requested_version
  tags.mcp_transport = session.transport.kind
  return tags
end

-- The tags of the HTTP requests underneath: the same plus name = "mcp <method>".
function M.request_tags(session, method, tool)
  local tags = M.tags(session, method, tool)
  tags.name = "mcp " .. method
  return tags
end

-- One logical request done: its duration (ms, nil when nothing was sent) and whether it failed.
function M.record(session, method, tool, failed, duration_ms)
  local tags = M.tags(session, method, tool)
  if duration_ms then
    M.request_duration:add(duration_ms, tags)
    if tool then
      M.tool_call_duration:add(duration_ms, tags)
    end
  end
  M.errors:add(failed, tags)
end

return M
