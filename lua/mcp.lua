-- SPDX-License-Identifier: MIT
-- The `luaload.mcp` module: an MCP (Model Context Protocol) client for load tests, every revision from
-- 2025-03-26 to 2026-07-28, over streamable HTTP (and stdio: mcp.spawn). Loaded on the first
-- require("luaload.mcp") (package.preload, bindings/lua_state.cpp), so scripts that do not use MCP get none of its
-- metrics. docs/mcp.md is the user-facing reference.
--
-- This file is the facade: argument checks and construction. The parts live in lua/mcp/: session (protocol,
-- requests), methods (conveniences), listen (listen streams), http (the transport; its header states the transport
-- interface), wire (envelope, headers), version (eras, the probe), cache, input (answers to the server), json,
-- metrics, errors.
--
-- Convention: every call returns `result, err, notifications`. `err` is nil on success, else a table
-- {kind = "http" | "jsonrpc" | "tool" | "session_lost" | "protocol" | "version" | "auth" | "process", method,
-- message, ...}; tools/call results with isError = true come back as the result AND an err of kind "tool".
-- Script misuse raises.
local session = require("luaload.mcp.session")
local version = require("luaload.mcp.version")
local transport_http = require("luaload.mcp.http")
local json = require("luaload.mcp.json")
require("luaload.mcp.lifecycle")
require("luaload.mcp.methods")
require("luaload.mcp.listen")
-- Loaded with the module, not on first use: their metrics (mcp_auth_flows, oauth_*, mcp_process_*) must exist
-- when the options pass checks the script's thresholds, which runs no iteration.
local stdio = require("luaload.mcp.stdio")
require("luaload.mcp.auth")

local type, ipairs, tostring, error, pcall = type, ipairs, tostring, error, pcall
local format, find, concat = string.format, string.find, table.concat

local M = {}

M.LATEST_PROTOCOL_VERSION = version.LATEST
M.PROTOCOL_VERSIONS = version.VERSIONS
M.VERSION = session.VERSION

-- mcp.array(t): marks `t` as a JSON array, so that an empty one is sent as [] (see luaload.mcp.json).
M.array = json.array
M.null = json.null

-- Checks the options every constructor takes; raises at the script's level.
function M.check_opts(api, opts)
  if opts == nil then
    return {}
  end
  if type(opts) ~= "table" then
    error(api .. ": opts must be a table", 3)
  end
  for _, field in ipairs({ "on_notification", "on_request" }) do
    if opts[field] ~= nil and type(opts[field]) ~= "function" then
      error(format("%s: opts.%s must be a function", api, field), 3)
    end
  end
  for _, field in ipairs({ "headers", "tags", "capabilities", "client_info", "roots", "auth" }) do
    if opts[field] ~= nil and type(opts[field]) ~= "table" then
      error(format("%s: opts.%s must be a table", api, field), 3)
    end
  end
  if opts.reissue ~= nil and opts.reissue ~= "safe" and opts.reissue ~= "always" and opts.reissue ~= "never" then
    error(api .. ': opts.reissue must be "safe", "always" or "never"', 3)
  end
  local v = opts.protocol_version
  if v ~= nil and v ~= "auto" and not version.supported[v] then
    error(format("%s: unsupported protocol_version %q (supported: auto, %s)", api, tostring(v),
      concat(version.VERSIONS, ", ")), 3)
  end
  return opts
end

-- A session object without any network traffic; session:initialize() (or session:open()) opens it.
function M.new(url, opts)
  if type(url) ~= "string" or not find(url, "^https?://") then
    error("mcp.new: url must be an http:// or https:// URL string", 2)
  end
  opts = M.check_opts("mcp.new", opts)
  return session.new(url, opts, transport_http.new(url, opts))
end

-- new() + initialize(): the open session, or nil, err.
function M.connect(url, opts)
  local s = M.new(url, opts)
  local _, err = s:initialize()
  if err then
    return nil, err
  end
  return s
end

-- mcp.spawn(spec, opts): an open session over the stdio transport (luaload.mcp.stdio.new(spec, opts) builds it
-- and checks `spec`), or nil, err.
function M.spawn(spec, opts)
  opts = M.check_opts("mcp.spawn", opts)
  local s = session.new(spec, opts, stdio.new(spec, opts))
  local _, err = s:initialize()
  if err then
    return nil, err
  end
  return s
end

return M
