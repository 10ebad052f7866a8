-- SPDX-License-Identifier: MIT
-- What luaload.mcp puts on the wire besides the JSON-RPC body it is given: the 2026-07-28 per-request `_meta`
-- envelope, the request metadata headers (Mcp-Method, Mcp-Name, Mcp-Param-*) with the `=?base64?...?=` value
-- encoding, and the `x-mcp-header` annotations of tool input schemas (validated, then extracted from arguments).
-- Pure functions: no network, no metrics. docs/mcp.md describes the behaviour.
local encoding = require("luaload.encoding")
local json = require("luaload.mcp.json")

local type, pairs, ipairs, tostring, tonumber, format = type, pairs, ipairs, tostring, tonumber, string.format
local find, lower, byte, floor, huge, unpack = string.find, string.lower, string.byte, math.floor, math.huge, unpack

local M = {}

M.META_PROTOCOL_VERSION = "io.modelcontextprotocol/protocolVersion"
M.META_CLIENT_INFO = "io.modelcontextprotocol/clientInfo"
M.META_CLIENT_CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
M.META_LOG_LEVEL = "io.modelcontextprotocol/logLevel"
M.META_SERVER_INFO = "io.modelcontextprotocol/serverInfo"
M.META_SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"

M.HEADER_MISMATCH = -32020
M.MISSING_CLIENT_CAPABILITY = -32021
M.UNSUPPORTED_PROTOCOL_VERSION = -32022
M.METHOD_NOT_FOUND = -32601

-- The request's params with the protocol fields merged into `_meta` (the caller's `_meta` keys are kept, the
-- protocol keys win). `env`: {version, client_info, capabilities, log_level}. The params table is not modified.
function M.envelope(params, env)
  local out, meta = {}, {}
  for k, v in pairs(params or {}) do
    out[k] = v
  end
  if type(out._meta) == "table" then
    for k, v in pairs(out._meta) do
      meta[k] = v
    end
  end
  meta[M.META_PROTOCOL_VERSION] = env.version
  meta[M.META_CLIENT_INFO] = env.client_info
  meta[M.META_CLIENT_CAPABILITIES] = env.capabilities or {}
  meta[M.META_LOG_LEVEL] = env.log_level
  out._meta = meta
  return out
end

-- A header value as the spec's Value Encoding rules want it: the value itself when it is non-empty visible
-- ASCII or inner spaces, else `=?base64?<base64 of the UTF-8 bytes>?=`. Values that look like the sentinel, and
-- (like the conformance suite) any tab, are encoded too.
function M.header_value(value)
  local plain = value ~= "" and not find(value, "[^\32-\126]") and byte(value, 1) ~= 32
    and byte(value, -1) ~= 32 and not (find(value, "^=%?base64%?") and find(value, "%?=$"))
  if plain then
    return value
  end
  return "=?base64?" .. encoding.base64_encode(value) .. "?="
end

local name_source = { ["tools/call"] = "name", ["prompts/get"] = "name", ["resources/read"] = "uri" }

-- The Mcp-Name header value of a request (encoded), or nil for methods that carry none.
function M.mcp_name(method, params)
  local field = name_source[method]
  local value = field and type(params) == "table" and params[field]
  if type(value) ~= "string" then
    return nil
  end
  return M.header_value(value)
end

-- x-mcp-header annotations ------------------------------------------------------------------------------------

-- Subschema keywords under which a property is not statically reachable: an annotation below them is invalid.
local unreachable_keywords = { "items", "prefixItems", "contains", "additionalProperties", "unevaluatedProperties",
  "unevaluatedItems", "propertyNames", "patternProperties", "dependentSchemas", "oneOf", "anyOf", "allOf", "not",
  "if", "then", "else", "$defs", "definitions" }
local map_keywords = { patternProperties = true, dependentSchemas = true, ["$defs"] = true, definitions = true }
local header_types = { string = true, integer = true, boolean = true }

local function path_name(path)
  return #path == 0 and "<root>" or table.concat(path, ".")
end

local function check_annotation(schema, path, reachable, seen)
  local name = schema["x-mcp-header"]
  if not reachable or #path == 0 then
    return path_name(path) .. ": x-mcp-header is only allowed on properties reachable through 'properties' alone"
  end
  if type(name) ~= "string" or name == "" then
    return path_name(path) .. ": x-mcp-header must be a non-empty string"
  end
  if find(name, "[^%w!#%$%%&'%*%+%-%.%^_`|~]") then
    return format("%s: x-mcp-header %q is not an HTTP token", path_name(path), name)
  end
  if not header_types[schema.type] then
    return format("%s: x-mcp-header is only allowed on string, integer or boolean properties (type %s)",
      path_name(path), tostring(schema.type))
  end
  local key = lower(name)
  if seen[key] then
    return format("x-mcp-header %q is declared twice (also as %q)", name, seen[key])
  end
  seen[key] = name
  return nil
end

local visit

local function visit_branches(value, keyword, path, seen, out)
  local branches = value
  if type(value) ~= "table" then
    return nil
  end
  if not json.is_array(value) and not map_keywords[keyword] then
    branches = { value }
  end
  for _, branch in pairs(branches) do
    local fault = visit(branch, path, false, seen, out)
    if fault then
      return fault
    end
  end
  return nil
end

visit = function(schema, path, reachable, seen, out)
  if type(schema) ~= "table" then
    return nil
  end
  if schema["x-mcp-header"] ~= nil then
    local fault = check_annotation(schema, path, reachable, seen)
    if fault then
      return fault
    end
    out[#out + 1] = { path = path, name = schema["x-mcp-header"], type = schema.type }
  end
  if type(schema.properties) == "table" then
    for key, child in pairs(schema.properties) do
      local child_path = { unpack(path) }
      child_path[#child_path + 1] = tostring(key)
      local fault = visit(child, child_path, reachable, seen, out)
      if fault then
        return fault
      end
    end
  end
  for _, keyword in ipairs(unreachable_keywords) do
    local fault = visit_branches(schema[keyword], keyword, path, seen, out)
    if fault then
      return fault
    end
  end
  return nil
end

-- The Mcp-Param-* declarations of a tool: a list of {path = {"region"}, name = "Region", type = "string"}, or
-- nil, reason when an annotation breaks the spec's constraints (the tool must then be rejected).
function M.tool_headers(tool)
  local out = {}
  local fault = visit(type(tool) == "table" and tool.inputSchema or nil, {}, true, {}, out)
  if fault then
    return nil, fault
  end
  return out
end

local kMaxSafeInteger = 9007199254740991

local function header_string(value, kind)
  local t = type(value)
  if t == "string" then
    return value
  elseif t == "boolean" then
    return value and "true" or "false"
  elseif t == "number" and value == value and value ~= huge and value ~= -huge then
    if value == floor(value) then
      if value > kMaxSafeInteger or value < -kMaxSafeInteger then
        return nil
      end
      return format("%d", value)
    end
    if kind == "integer" then
      return nil
    end
    local text = format("%.14g", value)
    return tonumber(text) == value and text or format("%.17g", value)
  end
  return nil
end

-- {["Mcp-Param-Region"] = "us-west1", ...} for the declarations of a tool and the call's arguments; values that
-- are absent, null or not primitive leave their header out.
function M.param_headers(declarations, args)
  local headers = {}
  for _, decl in ipairs(declarations or {}) do
    local node = args
    for _, key in ipairs(decl.path) do
      if type(node) == "table" then
        node = node[key]
      else
        node = nil
      end
    end
    local text = nil
    if node ~= nil and node ~= json.null then
      text = header_string(node, decl.type)
    end
    if text ~= nil then
      headers["Mcp-Param-" .. decl.name] = M.header_value(text)
    end
  end
  return headers
end

-- JSON-RPC messages --------------------------------------------------------------------------------------------

-- "request", "notification", "response" or nil (not a JSON-RPC message we know).
function M.kind(message)
  if type(message) ~= "table" then
    return nil
  end
  if type(message.method) == "string" then
    return message.id == nil and "notification" or "request"
  end
  if message.result ~= nil or message.error ~= nil then
    return "response"
  end
  return nil
end

-- The JSON-RPC error of a decoded body ({code =, message =, data =}), or nil.
function M.rpc_error_of(value)
  if type(value) == "table" and type(value.error) == "table" and type(value.error.code) == "number" then
    return value.error
  end
  return nil
end


return M
