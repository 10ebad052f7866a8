-- SPDX-License-Identifier: MIT
-- The error values of luaload.mcp: a table {kind, method, message, ...} printable with tostring(). docs/mcp.md
-- lists the kinds and their fields.
local format, tostring, setmetatable = string.format, tostring, setmetatable

local M = {}

local Error = {}
Error.__index = Error

local labels = { http = "HTTP error", tool = "tool error", session_lost = "session lost", protocol = "protocol error",
  version = "no common protocol version", auth = "authorization failed", process = "server process failed" }

Error.__tostring = function(e)
  local where = e.tool and format("%s %s", e.method, e.tool) or e.method
  if e.kind == "jsonrpc" then
    return format("mcp %s: JSON-RPC error %s: %s", where, tostring(e.code), tostring(e.message))
  end
  if e.kind == "http" and e.status ~= 0 then
    return format("mcp %s: HTTP %d: %s", where, e.status, tostring(e.message))
  end
  return format("mcp %s: %s: %s", where, labels[e.kind] or e.kind, tostring(e.message))
end

-- An error of `kind` for `method`; `fields` becomes the error (it is not copied).
function M.new(kind, method, fields)
  fields.kind, fields.method = kind, method
  return setmetatable(fields, Error)
end

return M
