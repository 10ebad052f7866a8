-- SPDX-License-Identifier: MIT
-- The `luaload.mcp` module: an MCP (Model Context Protocol) client over the streamable HTTP transport, built on
-- luaload.http. Loaded on the first require("luaload.mcp") (package.preload, bindings/lua_state.cpp), so scripts
-- that do not use MCP get none of its metrics. docs/mcp.md is the user-facing reference.
--
-- Convention: every call returns `result, err, notifications`. `err` is nil on success, else a table
-- {kind = "http" | "jsonrpc" | "tool" | "session_lost" | "protocol", method, message, ...}; tools/call results
-- with isError = true come back as the result AND an err of kind "tool". Script misuse raises.
local http = require("luaload.http")
local sse = require("luaload.sse")
local ll = require("luaload")

local json = ll.json
local type, pairs, ipairs, tostring, setmetatable, error, pcall = type, pairs, ipairs, tostring, setmetatable, error, pcall
local format, lower, find, concat = string.format, string.lower, string.find, table.concat

local M = {}

M.LATEST_PROTOCOL_VERSION = "2025-11-25"
M.PROTOCOL_VERSIONS = { "2025-11-25", "2025-06-18", "2025-03-26" }
M.VERSION = "0.1.0"

local supported = { ["2025-11-25"] = true, ["2025-06-18"] = true, ["2025-03-26"] = true }

local metrics = {
  request_duration = ll.metrics.Trend("mcp_request_duration", true),
  tool_call_duration = ll.metrics.Trend("mcp_tool_call_duration", true),
  errors = ll.metrics.Rate("mcp_errors"),
  sessions = ll.metrics.Counter("mcp_sessions"),
}

local new_error = require("luaload.mcp.errors").new

-- Answers -------------------------------------------------------------------------------------------------------

-- The JSON-RPC messages of a 2xx answer (JSON object, JSON array, or SSE events with non-empty data), or nil, err.
local function messages_of(res, method)
  local content_type = lower(res.headers["Content-Type"] or "")
  local texts = {}
  if find(content_type, "text/event-stream", 1, true) then
    local parser = sse.parser()
    local ok, events = pcall(parser.feed, parser, res.body)
    if not ok then
      return nil, new_error("protocol", method, { status = res.status, message = tostring(events) })
    end
    for _, ev in ipairs(events) do
      if ev.data ~= "" then
        texts[#texts + 1] = ev.data
      end
    end
  elseif res.body ~= "" then
    texts[1] = res.body
  end
  local messages = {}
  for _, text in ipairs(texts) do
    local ok, value = pcall(json.decode, text)
    if not ok or type(value) ~= "table" then
      return nil, new_error("protocol", method, { status = res.status, message = "invalid JSON-RPC message: " .. text })
    end
    if value[1] ~= nil then
      for _, m in ipairs(value) do
        messages[#messages + 1] = m
      end
    else
      messages[#messages + 1] = value
    end
  end
  return messages
end

-- Sessions ------------------------------------------------------------------------------------------------------

local Session = {}; Session.__index = Session

local function check_opts(api, opts)
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
  return opts
end

-- A session object without any network traffic; session:initialize() opens it.
function M.new(url, opts)
  if type(url) ~= "string" or not find(url, "^https?://") then
    error("mcp.new: url must be an http:// or https:// URL string", 2)
  end
  opts = check_opts("mcp.new", opts)
  local version = opts.protocol_version or M.LATEST_PROTOCOL_VERSION
  if not supported[version] then
    error(format("mcp.new: unsupported protocol_version %q (supported: %s)", tostring(version),
      concat(M.PROTOCOL_VERSIONS, ", ")), 2)
  end
  for _, field in ipairs({ "headers", "tags", "capabilities", "client_info" }) do
    if opts[field] ~= nil and type(opts[field]) ~= "table" then
      error(format("mcp.new: opts.%s must be a table", field), 2)
    end
  end
  return setmetatable({ url = url, opts = opts, requested_version = version, next_id = 0, reinitializations = 0,
    closed = true }, Session)
end

-- new() + initialize(): the open session, or nil, err.
function M.connect(url, opts)
  local session = M.new(url, opts)
  local _, err = session:initialize()
  if err then
    return nil, err
  end
  return session
end

local function tags_for(self, method, tool)
  local tags = {}
  if self.opts.tags then
    for k, v in pairs(self.opts.tags) do
      tags[k] = v
    end
  end
  tags.name = "mcp " .. method
  tags.mcp_method = method
  tags.mcp_tool = tool
  return tags
end

-- Headers the transport sets itself; the script's spelling of them (in any letter case) is dropped.
local transport_headers = { ["accept"] = true, ["content-type"] = true, ["mcp-session-id"] = true,
  ["mcp-protocol-version"] = true }

local function headers_for(self, with_session)
  local headers = {}
  if self.opts.headers then
    for k, v in pairs(self.opts.headers) do
      if not transport_headers[lower(tostring(k))] then
        headers[k] = v
      end
    end
  end
  headers["Accept"] = "application/json, text/event-stream"
  headers["Content-Type"] = "application/json"
  if with_session then
    headers["Mcp-Session-Id"] = self.id
    headers["MCP-Protocol-Version"] = self.protocol_version
  end
  return headers
end

-- The HTTP response is kept as session.last_response, for checks and debugging.
local function send(self, http_method, body, method, tool, call)
  local initializing = method == "initialize"
  local res = http.request(http_method, self.url, body, {
    headers = headers_for(self, not initializing),
    tags = tags_for(self, method, tool),
    timeout = call.timeout or self.opts.timeout,
  })
  self.last_response = res
  return res
end

-- 404 for a session we had, or 400 whose body talks about the session: the server no longer knows us.
local function session_lost(self, res)
  if self.id == nil then
    return false
  end
  return res.status == 404 or (res.status == 400 and find(lower(res.body), "session", 1, true) ~= nil)
end

local function http_error(method, tool, res)
  if res.status == 0 then
    return new_error("http", method, { tool = tool, status = 0, message = res.error, error_code = res.error_code })
  end
  local fields = { tool = tool, status = res.status, message = "unexpected status", body = res.body }
  local ok, value = pcall(json.decode, res.body)
  if ok and type(value) == "table" and type(value.error) == "table" then
    fields.code, fields.message, fields.data = value.error.code, value.error.message, value.error.data
  end
  return new_error("http", method, fields)
end

-- Answers a request the server sent: opts.on_request(message, session) returns the result, or nil, {code=,
-- message=}; when it returns nothing (or there is no handler) ping gets {} and anything else -32601.
local function answer_server_request(self, message)
  local reply = { jsonrpc = "2.0", id = message.id }
  local result, rpc_err
  if self.opts.on_request then
    result, rpc_err = self.opts.on_request(message, self)
  end
  if result == nil and rpc_err == nil and message.method == "ping" then
    result = {}
  end
  if result ~= nil then
    reply.result = result
  else
    reply.error = rpc_err or { code = -32601, message = "Method not found: " .. tostring(message.method) }
  end
  local answered = self.last_response
  send(self, "POST", json.encode(reply), "response", nil, {})
  self.last_response = answered
end

local function deliver(self, call, message, notes)
  notes[#notes + 1] = message
  local handler = call.on_notification or self.opts.on_notification
  if handler then
    handler(message, self)
  end
end

-- Sorts the messages of one answer: notifications are delivered, server requests answered, and the response with
-- our id is returned (an error response with a null id counts when nothing else matched).
local function pick_response(self, messages, id, call, notes)
  local response, orphan_error
  for _, m in ipairs(messages) do
    if type(m) == "table" and m.method ~= nil then
      if m.id == nil then
        deliver(self, call, m, notes)
      else
        answer_server_request(self, m)
      end
    elseif type(m) == "table" and m.id == id then
      response = m
    elseif type(m) == "table" and m.error ~= nil then
      orphan_error = m
    end
  end
  return response or orphan_error
end

local function tool_error_message(result)
  local parts = {}
  if type(result.content) == "table" then
    for _, item in ipairs(result.content) do
      if type(item) == "table" and type(item.text) == "string" then
        parts[#parts + 1] = item.text
      end
    end
  end
  return #parts > 0 and concat(parts, "\n") or "tool reported an error"
end

-- The outcome of one answered request: {result, err, notifications, lost}.
local function interpret(self, res, method, id, call)
  local notes = {}
  if res.status == 0 or res.status < 200 or res.status >= 300 then
    if res.status ~= 0 and session_lost(self, res) then
      local e = new_error("session_lost", method, { tool = call.tool, status = res.status, session_id = self.id,
        message = "the server no longer knows session " .. tostring(self.id) })
      return { err = e, notifications = notes, lost = true }
    end
    return { err = http_error(method, call.tool, res), notifications = notes }
  end
  local messages, perr = messages_of(res, method)
  if not messages then
    return { err = perr, notifications = notes }
  end
  local response = pick_response(self, messages, id, call, notes)
  if response == nil then
    local e = new_error("protocol", method, { tool = call.tool, status = res.status,
      message = format("no JSON-RPC response with id %s in the answer (HTTP %d)", tostring(id), res.status) })
    return { err = e, notifications = notes }
  end
  if type(response.error) == "table" then
    local e = response.error
    return { err = new_error("jsonrpc", method, { tool = call.tool, code = e.code, message = e.message,
      data = e.data }), notifications = notes }
  end
  local result = response.result
  if call.tool and type(result) == "table" and result.isError == true then
    return { result = result, err = new_error("tool", method, { tool = call.tool,
      message = tool_error_message(result) }), notifications = notes }
  end
  return { result = result, notifications = notes }
end

local function record(method, tool, outcome, duration)
  local tags = { mcp_method = method, mcp_tool = tool }
  if duration then
    metrics.request_duration:add(duration, tags)
    if tool then
      metrics.tool_call_duration:add(duration, { mcp_tool = tool })
    end
  end
  metrics.errors:add(outcome.err ~= nil, tags)
end

local function check_open(self, method)
  if self.closed then
    error(format("mcp %s: the session is not open (call session:initialize() first)", method), 3)
  end
end

-- One JSON-RPC request/response exchange; no metrics, no retry.
local function exchange(self, method, params, call)
  self.next_id = self.next_id + 1
  local id = self.next_id
  local res = send(self, "POST", json.encode({ jsonrpc = "2.0", id = id, method = method, params = params }),
    method, call.tool, call)
  return interpret(self, res, method, id, call), res
end

local function duration_of(res)
  return res.status ~= 0 and res.timings.duration or nil
end

-- A request in an open session; with opts.reinitialize a lost session is re-initialized and the request retried
-- once. Returns result, err, notifications.
function Session:request(method, params, call)
  if type(method) ~= "string" then
    error("session:request: method must be a string", 2)
  end
  call = call or {}
  check_open(self, method)
  local outcome, res = exchange(self, method, params, call)
  if outcome.lost and self.opts.reinitialize then
    local _, err = self:initialize()
    if err then
      outcome = { err = err, notifications = outcome.notifications }
    else
      self.reinitializations = self.reinitializations + 1
      outcome, res = exchange(self, method, params, call)
    end
  end
  record(method, call.tool, outcome, duration_of(res))
  return outcome.result, outcome.err, outcome.notifications
end

-- A notification (no id, no response): true, or nil, err. Expects 202 (any 2xx is accepted).
function Session:notify(method, params)
  if type(method) ~= "string" then
    error("session:notify: method must be a string", 2)
  end
  check_open(self, method)
  local res = send(self, "POST", json.encode({ jsonrpc = "2.0", method = method, params = params }), method, nil, {})
  local outcome = { notifications = {} }
  if res.status < 200 or res.status >= 300 then
    outcome.err = session_lost(self, res)
        and new_error("session_lost", method, { status = res.status, session_id = self.id,
          message = "the server no longer knows session " .. tostring(self.id) })
      or http_error(method, nil, res)
  end
  record(method, nil, outcome, duration_of(res))
  if outcome.err then
    return nil, outcome.err
  end
  return true
end

local function client_info(self)
  local info = { name = "luaload", version = M.VERSION }
  if self.opts.client_info then
    for k, v in pairs(self.opts.client_info) do
      info[k] = v
    end
  end
  return info
end

-- initialize + notifications/initialized. Returns the server's initialize result, or nil, err. Also used to open
-- a new session on a closed or lost one.
function Session:initialize()
  self.id, self.protocol_version, self.closed = nil, nil, true
  local params = {
    protocolVersion = self.requested_version,
    capabilities = self.opts.capabilities or {},
    clientInfo = client_info(self),
  }
  local outcome, res = exchange(self, "initialize", params, {})
  local result = outcome.result
  if result and not supported[result.protocolVersion] then
    outcome = { err = new_error("protocol", "initialize", { message = "the server chose unsupported protocol version "
      .. tostring(result.protocolVersion) }) }
  end
  record("initialize", nil, outcome, duration_of(res))
  if outcome.err then
    return nil, outcome.err
  end
  self.protocol_version = result.protocolVersion
  self.server_info, self.server_capabilities, self.instructions = result.serverInfo, result.capabilities,
    result.instructions
  self.closed = false
  -- A server without sessions sends no Mcp-Session-Id; later requests then go without one.
  self.id = res.headers["Mcp-Session-Id"]
  metrics.sessions:add(1)
  local ok, err = self:notify("notifications/initialized")
  if not ok then
    return nil, err
  end
  return result
end

local function paged(cursor)
  if cursor == nil then
    return nil
  end
  if type(cursor) ~= "string" then
    error("mcp: cursor must be a string (the nextCursor of the previous page)", 3)
  end
  return { cursor = cursor }
end

function Session:ping() return self:request("ping") end
function Session:tools_list(cursor) return self:request("tools/list", paged(cursor)) end
function Session:resources_list(cursor) return self:request("resources/list", paged(cursor)) end
function Session:prompts_list(cursor) return self:request("prompts/list", paged(cursor)) end

-- Every tool, following nextCursor (at most max_pages pages, default 100): tools, err.
function Session:tools_list_all(max_pages)
  local tools, cursor = {}, nil
  for _ = 1, max_pages or 100 do
    local result, err = self:tools_list(cursor)
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

function Session:resources_read(uri)
  if type(uri) ~= "string" then
    error("session:resources_read: uri must be a string", 2)
  end
  return self:request("resources/read", { uri = uri })
end

function Session:prompts_get(name, args)
  if type(name) ~= "string" then
    error("session:prompts_get: name must be a string", 2)
  end
  return self:request("prompts/get", { name = name, arguments = args or {} })
end

local progress_tokens = 0

-- tools/call. call: {progress = true (asks for notifications/progress), meta = {...} (_meta fields),
-- on_notification = fn, timeout = ...}. Returns result, err, notifications; isError results come with err.kind
-- "tool".
function Session:call_tool(name, args, call)
  if type(name) ~= "string" then
    error("session:call_tool: name must be a string", 2)
  end
  if args ~= nil and type(args) ~= "table" then
    error("session:call_tool: args must be a table", 2)
  end
  call = check_opts("session:call_tool", call)
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
  return self:request("tools/call", params, { tool = name, progress = call.progress, timeout = call.timeout,
    on_notification = call.on_notification })
end

-- Ends the session with DELETE (tagged mcp_method "close"). true, or nil, err; a server that does not allow
-- DELETE (405) or no longer knows the session (404) still counts as closed.
function Session:close()
  if self.closed then
    return true
  end
  local res
  if self.id ~= nil then
    res = send(self, "DELETE", nil, "close", nil, {})
  end
  self.closed, self.id = true, nil
  if res == nil then
    return true
  end
  local outcome = {}
  if res.status ~= 404 and res.status ~= 405 and (res.status < 200 or res.status >= 300) then
    outcome.err = http_error("close", nil, res)
  end
  record("close", nil, outcome, duration_of(res))
  if outcome.err then
    return nil, outcome.err
  end
  return true
end

-- The GET stream ------------------------------------------------------------------------------------------------

local Stream = {}; Stream.__index = Stream

local function route_stream_message(self, handle, opts, message)
  if type(message) ~= "table" or message.method == nil then
    return  -- responses belong to POSTs; a stream resumed after a lost POST answer is not supported
  end
  if message.id == nil then
    deliver(self, opts, message, handle.notifications)
  else
    answer_server_request(self, message)
  end
end

-- The body of the background task: reads the stream until it ends, fails or is closed.
local function run_stream(self, handle, opts)
  if handle.closing then
    return
  end
  local headers = headers_for(self, true)
  headers["Content-Type"] = nil
  headers["Accept"] = "text/event-stream"
  local reader = http.sse(self.url, { headers = headers, tags = tags_for(self, "stream"),
    idle_timeout = opts.idle_timeout })
  handle.reader, handle.status = reader, reader.status
  if reader.status ~= 200 then
    handle.error = reader.status == 0 and http_error("stream", nil, reader)
      or new_error(reader.status == 404 and "session_lost" or "http", "stream", { status = reader.status,
        message = "the server refused the stream" })
  end
  metrics.errors:add(handle.error ~= nil, { mcp_method = "stream" })
  if handle.error then
    reader:close()
    return
  end
  for ev in reader:events() do
    if handle.closing then
      break
    end
    if ev.data ~= "" then
      local ok, message = pcall(json.decode, ev.data)
      route_stream_message(self, handle, opts, ok and message or nil)
    end
  end
  if reader.error and not handle.closing then
    handle.error = new_error("http", "stream", { status = 0, message = reader.error, error_code = reader.error_code })
  end
  reader:close()
end

-- Opens the optional GET stream on which the server sends messages outside any request, in a background task of
-- this VU (ll.spawn). Notifications go to opts.on_notification (else the session's callback) and to
-- stream.notifications; server requests are answered as in responses. The stream ends with stream:close(), when
-- the server ends it, or when the iteration that opened it ends (tasks do not outlive their iteration).
function Session:open_stream(opts)
  if ll.spawn == nil or http.sse == nil then
    error("session:open_stream: this luaload has no http.sse / ll.spawn", 2)
  end
  check_open(self, "stream")
  opts = check_opts("session:open_stream", opts)
  local handle = setmetatable({ session = self, notifications = {}, closing = false }, Stream)
  handle.task = ll.spawn(run_stream, self, handle, opts)
  return handle
end

-- Stops reading; the task then ends. Idempotent.
function Stream:close()
  self.closing = true
  if self.reader then
    self.reader:close()
  end
end

-- Waits until the stream has ended (server end, error or close()); returns its error, if any.
function Stream:wait()
  self.task:wait()
  return self.error
end

return M
