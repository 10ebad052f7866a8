-- SPDX-License-Identifier: MIT
-- The stdio transport of luaload.mcp: the session layer's transport interface (written down in lua/mcp/http.lua)
-- over a child process speaking newline-delimited JSON-RPC (luaload.mcp.stdio_pipe routes what it writes).
-- docs/mcp-stdio.md is the user-facing page.
--
-- Differences from HTTP, all on the wire side: answers have no status or headers; a request written to the
-- process that ends without its response (the process died) is `broken`; a request abandoned after ctx.timeout
-- seconds without a message is cancelled with notifications/cancelled (and fails as an HTTP timeout would: kind
-- "http", status 0, error_code 1050), as is a listen stream that is closed;
-- close_session is a no-op (a legacy session is the process); close() ends the process. The process starts on the
-- first exchange, so that mcp.spawn's failures come back as values (kind "process").
--
-- A process that dies fails what was waiting for it with kind "process" (err.exit: status, signal, stderr). With
-- opts.reinitialize the next exchange starts a new one; a legacy session's handshake (its initialize and
-- notifications/initialized, as it sent them) is replayed there first, because that session lived in the old
-- process. transport.restarts counts them.
--
-- Sharing (spec.shared = true): one process per worker and spec, used by every VU's session. Wire ids are the
-- pipe's, so sessions' ids never collide. A legacy session on a shared process is the process's one session: the
-- first `initialize` is sent, later ones (other VUs, same process) get its answer without sending it again, and
-- only the first notifications/initialized goes out.
--
-- Metrics: mcp_process_starts (tag mcp_transport) and mcp_process_exits (tag reason = "exit" | "signal" |
-- "stopped"), counted by the coroutine that starts the process or first sees it gone.
local ll = require("luaload")
local json = require("luaload.mcp.json")
local pipes = require("luaload.mcp.stdio_pipe")
local process = require("luaload.process")
local new_error = require("luaload.mcp.errors").new

local type, pairs, ipairs, tostring, setmetatable, error = type, pairs, ipairs, tostring, setmetatable, error
local format, concat, sort, match, tonumber = string.format, table.concat, table.sort, string.match, tonumber
local now = ll.now

local M = {}

local kDefaultTimeoutS = 60
local kNoTimeoutS = 365 * 24 * 3600  -- timeout = 0: none (as over HTTP)
-- A server that stays silent to the server/discover probe is a legacy one (the stdio Backward Compatibility rule);
-- waiting the whole request timeout for that verdict would stall every session's start.
local kProbeTimeoutS = 10
local kListenSliceS = 3600  -- a listen stream without idle timeout re-checks this often (it is woken anyway)

local metrics = {
  starts = ll.metrics.Counter("mcp_process_starts"),
  exits = ll.metrics.Counter("mcp_process_exits"),
}

local Transport = {}
Transport.__index = Transport

-- Spec ----------------------------------------------------------------------------------------------------------

local function check_strings(list, what)
  if list == nil then
    return
  end
  if type(list) ~= "table" then
    error(format("mcp.spawn: %s must be a list of strings", what), 4)
  end
  for i, v in ipairs(list) do
    if type(v) ~= "string" and type(v) ~= "number" then
      error(format("mcp.spawn: %s[%d] must be a string", what, i), 4)
    end
  end
end

local function check_spec(spec)
  if type(spec) ~= "table" then
    error("mcp.spawn: spec must be a table { command = ..., args = { ... } }", 4)
  end
  if type(spec.command) ~= "string" or spec.command == "" then
    error("mcp.spawn: spec.command must be a non-empty string", 4)
  end
  check_strings(spec.args, "spec.args")
  if spec.env ~= nil and type(spec.env) ~= "table" then
    error("mcp.spawn: spec.env must be a table of names to strings", 4)
  end
  for k, v in pairs(spec.env or {}) do
    if type(k) ~= "string" or (type(v) ~= "string" and type(v) ~= "number") then
      error("mcp.spawn: spec.env must map names to strings", 4)
    end
  end
  if spec.cwd ~= nil and type(spec.cwd) ~= "string" then
    error("mcp.spawn: spec.cwd must be a string", 4)
  end
end

local units = { ms = 0.001, s = 1, m = 60, h = 3600 }

-- Seconds from a number or a duration string ("5s", "500ms", "1m30s"), as luaload.http takes timeouts; nil for
-- nil. Raises (at the script's level) for anything else.
local function seconds(value, what)
  if value == nil or type(value) == "number" then
    return value
  end
  local total, rest = 0, type(value) == "string" and value or nil
  while rest and rest ~= "" do
    local number, unit, tail = match(rest, "^(%d+%.?%d*)(%a+)(.*)$")
    if not number or not units[unit] then
      rest = nil
    else
      total, rest = total + tonumber(number) * units[unit], tail
    end
  end
  if rest == nil then
    error(format("mcp: invalid %s %s (seconds, or a duration like \"5s\")", what, tostring(value)), 0)
  end
  return total
end

-- The idle timeout of one exchange in seconds: the call's, the session's, or the default; 0 means none.
local function timeout_of(ctx, opts)
  local t = seconds(ctx.timeout, "timeout") or seconds(opts.timeout, "timeout") or kDefaultTimeoutS
  t = t == 0 and kNoTimeoutS or t
  if ctx.method == "server/discover" and t > kProbeTimeoutS then
    return kProbeTimeoutS
  end
  return t
end

-- What luaload.process.spawn takes, from the spec and the session's options.
local function process_spec(spec, opts)
  local args = {}
  for i, v in ipairs(spec.args or {}) do
    args[i] = tostring(v)
  end
  local env = {}
  for k, v in pairs(spec.env or {}) do
    env[k] = tostring(v)
  end
  local stop = seconds(spec.stop_timeout or opts.stop_timeout, "stop_timeout")
  return { command = spec.command, args = args, env = env, cwd = spec.cwd, inherit_env = spec.inherit_env,
    max_message_bytes = spec.max_message_bytes or opts.max_message_bytes,
    stderr_bytes = spec.stderr_bytes, stop_timeout_ms = stop and stop * 1000 or nil }
end

-- The key of a shared process: everything that makes two specs the same server.
local function share_key(p)
  local env = {}
  for k, v in pairs(p.env) do
    env[#env + 1] = k .. "=" .. v
  end
  sort(env)
  return concat({ p.command, concat(p.args, "\0"), concat(env, "\0"), p.cwd or "",
    tostring(p.inherit_env ~= false) }, "\1")
end

local shared_pipes = {}  -- per worker: share_key -> pipe

function M.new(spec, opts)
  check_spec(spec)
  opts = opts or {}
  seconds(opts.timeout, "timeout")  -- misuse raises now rather than at the first request
  local p = process_spec(spec, opts)
  return setmetatable({ kind = "stdio", spec = p, shared = spec.shared == true, key = spec.shared and share_key(p),
    opts = opts, wire_ids = {}, restarts = 0 }, Transport)
end

-- The process ---------------------------------------------------------------------------------------------------

-- A timeout is what it is over HTTP (kind "http", status 0, k6's request-timeout code 1050), so that scripts and
-- the session's probe (a stdio probe that times out means a legacy server) treat it alike on both transports.
local kRequestTimeout = 1050

local function timeout_error(ctx, message)
  return new_error("http", ctx.method, { tool = ctx.tool, status = 0, error_code = kRequestTimeout, timeout = true,
    message = "request timeout: " .. message })
end

local function process_error(ctx, message, fields)
  fields = fields or {}
  fields.tool, fields.message = ctx.tool, message
  return new_error("process", ctx.method, fields)
end

local function count_exit(pipe)
  if pipe.dead and not pipe.exit_counted then
    pipe.exit_counted = true
    metrics.exits:add(1, { reason = pipe.dead.reason, mcp_transport = "stdio" })
  end
end

local function death_error(ctx, pipe)
  if pipe.dead then
    return process_error(ctx, pipe.dead.message, { exit = pipe.dead, stderr = pipe.dead.stderr })
  end
  return process_error(ctx, "the server process was closed")
end

-- The running pipe: this transport's, the worker's shared one, or a new one: the first time, or after the last one
-- died when opts.reinitialize is set (then a legacy session's handshake is replayed on it). nil, err when none.
function Transport:pipe_for(ctx)
  local pipe = self.pipe
  if pipe and not pipe.dead and not pipe.closed then
    return pipe
  end
  if pipe == nil then  -- the first exchange, or the first after close() (the session was opened again)
    return self:start(ctx)
  end
  count_exit(pipe)
  if not self.opts.reinitialize then
    return nil, death_error(ctx, pipe)
  end
  self.pipe = nil
  local fresh, err = self:start(ctx)
  if fresh == nil then
    return nil, err
  end
  self.restarts = self.restarts + 1
  local ok, replay_err = self:replay_handshake(ctx)
  if not ok then
    return nil, replay_err
  end
  return self.pipe
end

-- A legacy session lives in its process: a new process gets the session's initialize (and
-- notifications/initialized) again, as the session sent them, so that the session's next request finds it open.
function Transport:replay_handshake(ctx)
  local h = self.handshake
  if h == nil then
    return true
  end
  local answer = self:request(h.initialize, { method = "initialize", timeout = ctx.timeout })
  if answer.err then
    return nil, answer.err
  end
  if not (answer.response and answer.response.result) then
    return nil, process_error(ctx, "the restarted server refused initialize")
  end
  if h.initialized then
    self:notify(h.initialized, { method = "notifications/initialized", timeout = ctx.timeout })
  end
  return true
end

function Transport:start(ctx)
  local pipe = self.shared and shared_pipes[self.key] or nil
  if pipe == nil or pipe.dead or pipe.closed then
    if pipe then
      count_exit(pipe)
    end
    local message
    pipe, message = pipes.start(self.spec, self.shared, json.decode)
    if pipe == nil then
      return nil, process_error(ctx, message)
    end
    metrics.starts:add(1, { mcp_transport = "stdio" })
    if self.shared then
      shared_pipes[self.key] = pipe
    end
  end
  self.pipe = pipe
  return pipe
end

-- A new process now (shared: the worker's new one, if another VU restarted it first). For a session that
-- re-initializes by itself afterwards; without a call to it, opts.reinitialize restarts on the next exchange.
function Transport:restart()
  local old = self.pipe
  if old and not old.shared then
    old:close()
  end
  if old then
    count_exit(old)
  end
  self.pipe = nil
  local _, err = self:start({ method = "restart" })
  if err then
    return nil, err
  end
  return true
end

-- Exchanges -----------------------------------------------------------------------------------------------------

local function progress_token(message)
  local params = message.params
  local meta = type(params) == "table" and params._meta
  return type(meta) == "table" and meta.progressToken or nil
end

-- message with the pipe's wire id instead of the session's.
local function on_wire(message, wire_id)
  return { jsonrpc = "2.0", id = wire_id, method = message.method, params = message.params }
end

function Transport:send(pipe, message, ctx)
  local timeout = timeout_of(ctx, self.opts)
  local ok, why = pipe:write(json.encode(message), now() + timeout * 1000)
  if ok then
    return nil
  end
  if why == "timeout" then
    return timeout_error(ctx, format("the server did not read its input for %g s", timeout))
  end
  count_exit(pipe)
  return death_error(ctx, pipe)
end

-- Takes the exchange's messages until its response: "answered" (answer.response set), "failed" (answer.err),
-- "timeout" (idle_s without a message) or "closed" (a listen handle is closing).
function Transport:collect(pipe, ex, ctx, sink, answer, idle_s, handle)
  local deadline = now() + idle_s * 1000
  while answer.response == nil do
    if handle and handle.closing then
      return "closed"
    end
    local m = pipe:take(ex)
    if m ~= nil then
      deadline = now() + idle_s * 1000
      if m.method == nil then
        answer.response = m
      elseif sink then
        sink(m)
      end
    elseif pipe.dead or pipe.closed then
      count_exit(pipe)
      answer.broken = true
      answer.err = death_error(ctx, pipe)
    elseif ex.overlong then
      answer.err = new_error("protocol", ctx.method, { tool = ctx.tool,
        message = "the answer is longer than max_message_bytes" })
    elseif not pipe:wait(ex, deadline) and now() >= deadline then
      return "timeout"
    end
    if answer.err then
      return "failed"
    end
  end
  return "answered"
end

function Transport:cancel(pipe, ex, reason)
  pipe:write(json.encode({ jsonrpc = "2.0", method = "notifications/cancelled",
    params = { requestId = ex.id, reason = reason } }), now() + 1000)
end

-- A legacy initialize on a shared process that already answered one: that answer, not sent again.
local function shared_initialize(self, pipe, message)
  if not (self.shared and message.method == "initialize") then
    return nil
  end
  while pipe.initializing and not pipe.dead do
    pipe.initialized_event:wait(1)
  end
  local cached = pipe.initialize_response
  if cached == nil then
    return nil
  end
  local response = { jsonrpc = "2.0", id = message.id, result = cached.result, error = cached.error }
  return { response = response, duration_ms = 0 }
end

function Transport:request(message, ctx, sink)
  process.require_yieldable("mcp " .. ctx.method)
  local started = now()
  local pipe, err = self:pipe_for(ctx)
  if pipe == nil then
    return { err = err, duration_ms = now() - started }
  end
  local reused = shared_initialize(self, pipe, message)
  if reused then
    return reused
  end
  local first_initialize = self.shared and message.method == "initialize"
  if first_initialize then
    pipe.initializing, pipe.initialized_event = true, pipe.initialized_event or ll.event()
  end
  local answer = self:exchange(pipe, message, ctx, sink)
  if first_initialize then
    pipe.initializing = false
    if answer.response and answer.response.result then
      pipe.initialize_response = answer.response
    end
    pipe.initialized_event:notify()
  end
  if message.method == "initialize" and answer.response and answer.response.result then
    self.handshake = { initialize = message }
  end
  answer.duration_ms = now() - started
  return answer
end

-- What arrived while no exchange was open goes to the session's default sink first, in this coroutine.
function Transport:hand_over_orphans(pipe)
  local orphans = pipe:take_orphans()
  for i = 1, #orphans do
    if self.default_sink then
      self.default_sink(orphans[i])
    end
  end
end

function Transport:exchange(pipe, message, ctx, sink)
  self:hand_over_orphans(pipe)
  local answer = {}
  local ex = pipe:open("request", message.id, progress_token(message))
  self.wire_ids[message.id] = ex.id
  answer.err = self:send(pipe, on_wire(message, ex.id), ctx)
  if answer.err == nil then
    local idle = timeout_of(ctx, self.opts)
    if self:collect(pipe, ex, ctx, sink, answer, idle) == "timeout" then
      self:cancel(pipe, ex, "timeout")
      answer.err = timeout_error(ctx, format("no answer within %g s", idle))
    end
  end
  self.wire_ids[message.id] = nil
  pipe:close_exchange(ex)
  return answer
end

-- Notifications carry no id, except notifications/cancelled's requestId, which names one of our exchanges.
function Transport:notify(message, ctx)
  process.require_yieldable("mcp " .. ctx.method)
  local started = now()
  local pipe, err = self:pipe_for(ctx)
  if pipe == nil then
    return { err = err, duration_ms = now() - started }
  end
  if message.method == "notifications/initialized" and self.handshake then
    self.handshake.initialized = message
  end
  if self.shared and message.method == "notifications/initialized" then
    if pipe.initialized_sent then
      return { duration_ms = 0 }
    end
    pipe.initialized_sent = true
  end
  local params = message.params
  if message.method == "notifications/cancelled" and type(params) == "table" and self.wire_ids[params.requestId] then
    local copy = {}
    for k, v in pairs(params) do
      copy[k] = v
    end
    copy.requestId = self.wire_ids[params.requestId]
    message = { jsonrpc = "2.0", method = message.method, params = copy }
  end
  return { err = self:send(pipe, message, ctx), duration_ms = now() - started }
end

-- The response to a server request (legacy): its id is the server's, sent back as it is.
function Transport:respond(message, ctx)
  process.require_yieldable("mcp " .. ctx.method)
  local started = now()
  local pipe, err = self:pipe_for(ctx)
  if pipe == nil then
    return { err = err, duration_ms = now() - started }
  end
  return { err = self:send(pipe, message, ctx), duration_ms = now() - started }
end

-- Listen streams --------------------------------------------------------------------------------------------------

-- Reads the listen exchange until its response (modern), closing, an error, or the idle timeout.
function Transport:read_listen(pipe, ex, ctx, sink, handle, answer)
  local idle = ctx.timeout and timeout_of(ctx, self.opts) or nil
  while not handle.closing do
    local outcome = self:collect(pipe, ex, ctx, sink, answer, idle or kListenSliceS, handle)
    if outcome ~= "timeout" or handle.closing then
      return
    end
    if idle then
      answer.err = timeout_error(ctx, format("nothing arrived on the stream for %g s", idle))
      return
    end
  end
end

function Transport:listen(message, ctx, sink, handle)
  process.require_yieldable("mcp " .. ctx.method)
  local started = now()
  local answer = {}
  local pipe, err = self:pipe_for(ctx)
  if pipe == nil then
    return { err = err, duration_ms = now() - started }
  end
  self:hand_over_orphans(pipe)
  local ex = pipe:open(message and "listen" or "catch_all", message and message.id)
  handle.stop = function() ex.event:notify() end
  if message then
    answer.err = self:send(pipe, on_wire(message, ex.id), ctx)
  end
  if answer.err == nil then
    handle:opened(nil)
    self:read_listen(pipe, ex, ctx, sink, handle, answer)
    if handle.closing and message and answer.response == nil and not pipe.dead then
      self:cancel(pipe, ex, "the client closed the subscription")
    end
  end
  if handle.closing and answer.err and answer.err.kind == "process" then
    answer.err = nil  -- closed by the script: the end of the process after it is not this stream's failure
  end
  pipe:close_exchange(ex)
  answer.duration_ms = now() - started
  return answer
end

-- The rest ----------------------------------------------------------------------------------------------------------

function Transport:close_session(ctx)
  return {}
end

function Transport:auth_context()
  return nil
end

-- Ends this transport's process (a shared one stays with the worker). Idempotent.
function Transport:close()
  local pipe = self.pipe
  self.pipe = nil
  if pipe == nil or pipe.shared then
    return
  end
  if not pipe.dead and not pipe.closed then
    pipe:close()
    metrics.exits:add(1, { reason = "stopped", mcp_transport = "stdio" })
    pipe.exit_counted = true
  end
  count_exit(pipe)
end

-- The pid of the running process (for tests and logs), or nil.
function Transport:pid()
  local pipe = self.pipe
  return pipe and not pipe.dead and not pipe.closed and pipe:pid() or nil
end

return M
