-- SPDX-License-Identifier: MIT
-- Answers to what the server asks of the client: 2025 JSON-RPC requests on a stream (ping, roots/list,
-- elicitation/create, sampling/createMessage, ...) and 2026-07-28 MRTR input requests alike.
-- opts.on_request(message, session) answers first; when it returns nothing the defaults apply: ping -> {},
-- roots/list -> {roots = opts.roots or []}, elicitation/create -> decline, anything else -> error -32601.
-- Every answered request counts in mcp_server_requests{mcp_method = <the server's method>}.
local json = require("luaload.mcp.json")
local metrics = require("luaload.mcp.metrics")

local type, pairs, ipairs, tostring = type, pairs, ipairs, tostring

local M = {}

local function copy_list(list)
  local out = json.array()
  for i, v in ipairs(list or {}) do
    out[i] = v
  end
  return out
end

local defaults = {
  ping = function() return {} end,
  ["roots/list"] = function(session) return { roots = copy_list(session.opts.roots) } end,
  ["elicitation/create"] = function() return { action = "decline" } end,
}

local function apply_defaults_wanted(session)
  local elicitation = type(session.opts.capabilities) == "table" and session.opts.capabilities.elicitation
  if type(elicitation) ~= "table" then
    return false
  end
  return elicitation.applyDefaults == true
    or (type(elicitation.form) == "table" and elicitation.form.applyDefaults == true)
end

-- SEP-1034: an accepted form elicitation gets the schema's defaults for the fields the handler left out.
local function with_defaults(session, params, result)
  if type(result) ~= "table" or result.action ~= "accept" or not apply_defaults_wanted(session) then
    return result
  end
  if type(params) ~= "table" or (params.mode ~= nil and params.mode ~= "form") then
    return result
  end
  local schema = params.requestedSchema
  if type(schema) ~= "table" or type(schema.properties) ~= "table" then
    return result
  end
  local content = type(result.content) == "table" and result.content or {}
  for name, property in pairs(schema.properties) do
    if content[name] == nil and type(property) == "table" and property.default ~= nil then
      content[name] = property.default
    end
  end
  result.content = content
  return result
end

-- The answer to `message` ({method, params, id}): result, or nil, {code, message}. Counted when answered.
function M.answer(session, message)
  local result, rpc_err
  if session.opts.on_request then
    result, rpc_err = session.opts.on_request(message, session)
  end
  if result == nil and rpc_err == nil then
    local default = defaults[message.method]
    if default then
      result = default(session, message)
    else
      rpc_err = { code = -32601, message = "Method not found: " .. tostring(message.method) }
    end
  end
  if result ~= nil and message.method == "elicitation/create" then
    result = with_defaults(session, message.params, result)
  end
  if result ~= nil then
    metrics.server_requests:add(1, metrics.tags(session, message.method))
  end
  return result, rpc_err
end

-- The inputResponses for an InputRequiredResult's inputRequests: every request answered, a request whose
-- answer is an error left out (the server asks again or gives up).
function M.responses(session, input_requests)
  local responses = {}
  for key, request in pairs(type(input_requests) == "table" and input_requests or {}) do
    if type(request) == "table" then
      local result = M.answer(session, { method = request.method, params = request.params, id = key })
      if result ~= nil then
        responses[key] = result
      end
    end
  end
  return responses
end

return M
