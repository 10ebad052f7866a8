-- SPDX-License-Identifier: MIT
-- The per-method conveniences of a luaload.mcp session (added to luaload.mcp.session's Session): lists, reads,
-- prompts, tools/call with its progress token and _meta, server/discover. Each returns result, err,
-- notifications like session:request(). `opts` (a table, optional) takes fresh = true (bypass the ttl cache) and
-- timeout; list methods take a cursor string in its place too.
local session = require("luaload.mcp.session")
local metrics = require("luaload.mcp.metrics")
local new_error = require("luaload.mcp.errors").new

local type, pairs, ipairs, error, format = type, pairs, ipairs, error, string.format

local Session = session.Session

local function check_table(api, name, value)
  if value ~= nil and type(value) ~= "table" then
    error(format("%s: %s must be a table", api, name), 3)
  end
  return value or {}
end

-- list(cursor), list(opts) or list(cursor, opts): params, call.
local function list_args(api, a, b)
  local cursor, opts = a, b
  if type(a) == "table" then
    cursor, opts = a.cursor, a
  end
  if cursor ~= nil and type(cursor) ~= "string" then
    error(api .. ": cursor must be a string (the nextCursor of the previous page)", 3)
  end
  opts = check_table(api, "opts", opts)
  return cursor and { cursor = cursor } or nil, { fresh = opts.fresh, timeout = opts.timeout }
end

function Session:ping()
  return self:request("ping")
end

function Session:tools_list(a, b)
  local params, call = list_args("session:tools_list", a, b)
  return self:request("tools/list", params, call)
end

function Session:resources_list(a, b)
  local params, call = list_args("session:resources_list", a, b)
  return self:request("resources/list", params, call)
end

function Session:resources_templates_list(a, b)
  local params, call = list_args("session:resources_templates_list", a, b)
  return self:request("resources/templates/list", params, call)
end

function Session:prompts_list(a, b)
  local params, call = list_args("session:prompts_list", a, b)
  return self:request("prompts/list", params, call)
end

-- Every tool, following nextCursor (at most max_pages pages, default 100): tools, err. The argument is
-- max_pages or {max_pages =, fresh =}.
function Session:tools_list_all(opts)
  if type(opts) == "number" then
    opts = { max_pages = opts }
  end
  opts = check_table("session:tools_list_all", "opts", opts)
  local tools, cursor = {}, nil
  for _ = 1, opts.max_pages or 100 do
    local result, err = self:tools_list(cursor, { fresh = opts.fresh })
    if err then
      return nil, err
    end
    for _, tool in ipairs(result.tools or {}) do
      tools[#tools + 1] = tool
    end
    cursor = result.nextCursor
    if type(cursor) ~= "string" or cursor == "" then
      return tools
    end
  end
  return tools
end

function Session:resources_read(uri, opts)
  if type(uri) ~= "string" then
    error("session:resources_read: uri must be a string", 2)
  end
  opts = check_table("session:resources_read", "opts", opts)
  return self:request("resources/read", { uri = uri }, { fresh = opts.fresh, timeout = opts.timeout })
end

function Session:prompts_get(name, args, opts)
  if type(name) ~= "string" then
    error("session:prompts_get: name must be a string", 2)
  end
  check_table("session:prompts_get", "args", args)
  opts = check_table("session:prompts_get", "opts", opts)
  return self:request("prompts/get", { name = name, arguments = args or {} }, { timeout = opts.timeout,
    on_notification = opts.on_notification })
end

-- server/discover: the server's versions, capabilities and identity (also sets session.server_capabilities ...).
function Session:server_discover(opts)
  opts = check_table("session:server_discover", "opts", opts)
  return self:discover({ fresh = opts.fresh, timeout = opts.timeout })
end

local progress_tokens = 0

-- tools/call. call: {progress = true (asks for notifications/progress), meta = {...} (_meta fields),
-- on_notification = fn, timeout = ..., reissue = bool}. Returns result, err, notifications; isError results come
-- with err.kind "tool". A tool that tools/list rejected (invalid x-mcp-header) is refused without a request.
function Session:call_tool(name, args, call)
  if type(name) ~= "string" then
    error("session:call_tool: name must be a string", 2)
  end
  check_table("session:call_tool", "args", args)
  call = check_table("session:call_tool", "call", call)
  for _, field in ipairs({ "on_notification" }) do
    if call[field] ~= nil and type(call[field]) ~= "function" then
      error(format("session:call_tool: call.%s must be a function", field), 2)
    end
  end
  if self.rejected_tools[name] then
    local err = new_error("protocol", "tools/call", { tool = name, message = "the tool was rejected: "
      .. self.rejected_tools[name] })
    metrics.record(self, "tools/call", name, true, nil)
    return nil, err, {}
  end
  local params = { name = name, arguments = args or {} }
  if call.progress or call.meta then
    local meta = {}
    for k, v in pairs(call.meta or {}) do
      meta[k] = v
    end
    if call.progress then
      progress_tokens = progress_tokens + 1
      meta.progressToken = "luaload-" .. progress_tokens
    end
    params._meta = meta
  end
  return self:request("tools/call", params, { tool = name, timeout = call.timeout,
    on_notification = call.on_notification, reissue = call.reissue })
end

return Session
