-- SPDX-License-Identifier: MIT
-- The session layer of luaload.mcp: a Session drives a transport (the interface is written down in
-- lua/mcp/http.lua) and owns the protocol: era and version negotiation, the legacy initialize handshake, the
-- 2026-07-28 envelope, JSON-RPC ids, MRTR rounds, the ttl cache, re-issuing and re-initializing, answering server
-- requests, metrics and the error values scripts see. Opening and closing (the probe, initialize, close, the VU
-- end hook) are in luaload.mcp.lifecycle, the per-method conveniences in luaload.mcp.methods, listen streams in
-- luaload.mcp.listen.
--
-- Every request returns `result, err, notifications`; failures are values (luaload.mcp.errors), misuse raises.
--
-- | state            | event                                              | next                                  |
-- | ---------------- | -------------------------------------------------- | ------------------------------------- |
-- | closed (new)     | open(): pinned modern version, or cached "modern"  | open, era modern (no network)         |
-- | closed (new)     | open(): auto, era unknown: server/discover probe   | modern, or legacy after a fallback    |
-- | closed           | open() in the legacy era: initialize answered      | open, era legacy, session id if sent  |
-- | open (legacy)    | 404 / 400 "session" answer                         | session_lost; reinitialize: re-opened |
-- | open             | close()                                            | closed (legacy: DELETE sent)          |
-- | open             | the VU retires at the end of the test              | closed (ll.on_vu_end)                 |
local ll = require("luaload")
local json = require("luaload.mcp.json")
local wire = require("luaload.mcp.wire")
local cache = require("luaload.mcp.cache")
local input = require("luaload.mcp.input")
local metrics = require("luaload.mcp.metrics")
local version = require("luaload.mcp.version")
local new_error = require("luaload.mcp.errors").new

local type, pairs, ipairs, tostring, setmetatable, error = type, pairs, ipairs, tostring, setmetatable, error
local format, lower, find, concat = string.format, string.lower, string.find, table.concat
local now = ll.now

local M = {}

M.VERSION = "0.2.0"

local Session = {}
Session.__index = Session
M.Session = Session

local kMaxInputRounds = 8
local kMaxReissues = 2
local kMaxVersionRetries = 2

-- A closed session over `transport`; open() (or initialize()) opens it. `target` is the URL or stdio spec.
function M.new(target, opts, transport)
  local requested = opts.protocol_version or "auto"
  local self = setmetatable({ url = target, opts = opts, transport = transport, requested_version = requested,
    next_id = 0, reinitializations = 0, closed = true, cache = cache.new(), tool_headers = {}, tool_annotations = {},
    rejected_tools = {}, listeners = {} }, Session)
  transport.default_sink = function(m) self:on_message(m, {}, {}, {}) end
  return self
end

function M.client_info(self)
  local info = { name = "luaload", version = M.VERSION }
  for k, v in pairs(self.opts.client_info or {}) do
    info[k] = v
  end
  return info
end

-- Messages from the server ----------------------------------------------------------------------------------------

-- A notification or server request that arrived on one of this session's streams. `call` is the request's call
-- options (on_notification), `notes` its notification list, `progress` its progress timing.
function Session:on_message(m, call, notes, progress)
  if wire.kind(m) == "request" then
    self:answer_request(m)
    return
  end
  self.cache:invalidate(m)
  if m.method == "notifications/progress" then
    local t = now()
    if progress.last then
      metrics.progress_interval:add(t - progress.last, metrics.tags(self, progress.method, progress.tool))
    end
    progress.last = t
  end
  notes[#notes + 1] = m
  local handler = call.on_notification or self.opts.on_notification
  if handler then
    handler(m, self)
  end
end

-- A legacy server request: answered at once (a POST on another connection; the stream stays open). 2026-07-28
-- servers must not send any (MRTR replaces them): such requests are ignored, as the client may send no response.
function Session:answer_request(m)
  if self.era == "modern" then
    return
  end
  local result, rpc_err = input.answer(self, m)
  local reply = { jsonrpc = "2.0", id = m.id }
  if result ~= nil then
    reply.result = result
  else
    reply.error = rpc_err
  end
  self.transport:respond(reply, self:ctx("response", {}))
end

-- Exchanges -------------------------------------------------------------------------------------------------------

-- The transport context of one exchange (see lua/mcp/http.lua).
function Session:ctx(method, call, params)
  local modern = self.era == "modern"
  local ctx = { method = method, tool = call.tool, version = self.protocol_version, session_id = self.id,
    modern = modern, tags = metrics.request_tags(self, method, call.tool), timeout = call.timeout or self.opts.timeout,
    resume = not modern, max_resumptions = self.opts.max_resumptions, retry_ms = self.opts.retry_ms,
    expected_statuses = call.expected_statuses }
  if modern then
    ctx.name = wire.mcp_name(method, params)
    if method == "tools/call" and type(params) == "table" then
      ctx.param_headers = wire.param_headers(self.tool_headers[params.name], params.arguments)
    end
  end
  return ctx
end

-- `params` with the 2026-07-28 per-request `_meta` fields of this session.
function Session:envelope(params)
  return wire.envelope(params, { version = self.protocol_version, client_info = M.client_info(self),
    capabilities = self.opts.capabilities, log_level = self.opts.log_level })
end

-- Sends one JSON-RPC request (a new id) and returns the transport's answer.
function Session:exchange(method, params, call, notes, progress)
  self.next_id = self.next_id + 1
  local wire_params = params
  if self.era == "modern" then
    wire_params = self:envelope(params)
  end
  local message = { jsonrpc = "2.0", id = self.next_id, method = method, params = wire_params }
  local answer = self.transport:request(message, self:ctx(method, call, params), function(m)
    self:on_message(m, call, notes, progress)
  end)
  self.last_response = answer
  if answer.first_event_ms then
    metrics.time_to_first_event:add(answer.first_event_ms, metrics.tags(self, method, call.tool))
  end
  if (answer.resumptions or 0) > 0 then
    metrics.stream_resumptions:add(answer.resumptions, metrics.tags(self, method, call.tool))
  end
  return answer
end

-- A legacy server that no longer knows our session: 404, or 400 whose body talks about the session.
local function session_lost(self, answer)
  if self.era ~= "legacy" or self.id == nil or answer.status == nil then
    return false
  end
  return answer.status == 404
    or (answer.status == 400 and find(lower(answer.body or ""), "session", 1, true) ~= nil)
end

local function tool_error_message(result)
  local parts = {}
  for _, item in ipairs(type(result.content) == "table" and result.content or {}) do
    if type(item) == "table" and type(item.text) == "string" then
      parts[#parts + 1] = item.text
    end
  end
  return #parts > 0 and concat(parts, "\n") or "tool reported an error"
end

local function rpc_error(method, call, e, status)
  return new_error("jsonrpc", method, { tool = call.tool, code = e.code, message = e.message, data = e.data,
    status = status })
end

-- The outcome of one answer: {result =, err =, lost = true (session lost), rpc = the JSON-RPC error}.
function Session:interpret(answer, method, call)
  if answer.err then
    return { err = answer.err }
  end
  local status = answer.status
  if status ~= nil and (status < 200 or status >= 300) then
    if session_lost(self, answer) then
      return { lost = true, err = new_error("session_lost", method, { tool = call.tool, status = status,
        session_id = self.id, message = "the server no longer knows session " .. tostring(self.id) }) }
    end
    local e = wire.rpc_error_of(answer.error_body)
    if e then
      return { rpc = e, err = rpc_error(method, call, e, status) }
    end
    return { err = new_error("http", method, { tool = call.tool, status = status, body = answer.body,
      message = "unexpected status" }) }
  end
  local response = answer.response
  if response == nil then
    return { err = new_error("protocol", method, { tool = call.tool, status = status,
      message = "no JSON-RPC response in the answer" .. (status and format(" (HTTP %d)", status) or "") }) }
  end
  if type(response.error) == "table" then
    return { rpc = response.error, err = rpc_error(method, call, response.error, status) }
  end
  local result = response.result
  if type(result) ~= "table" then
    return { err = new_error("protocol", method, { tool = call.tool, status = status,
      message = "the result is not an object" }) }
  end
  return { result = result }
end

-- Re-issuing (2026-07-28 has no resumption: a broken stream loses the request) is safe for methods that change
-- nothing, and for tools the server annotated read-only or idempotent. opts.reissue = "always" | "never" and
-- call.reissue = true | false override that.
local safe_methods = { ["server/discover"] = true, ["tools/list"] = true, ["prompts/list"] = true,
  ["resources/list"] = true, ["resources/templates/list"] = true, ["resources/read"] = true,
  ["prompts/get"] = true, ["completion/complete"] = true }

function Session:safe_to_reissue(method, params, call)
  if call.reissue ~= nil then
    return call.reissue == true
  end
  local policy = self.opts.reissue or "safe"
  if policy ~= "safe" then
    return policy == "always"
  end
  if safe_methods[method] then
    return true
  end
  local a = method == "tools/call" and type(params) == "table" and self.tool_annotations[params.name]
  return type(a) == "table" and (a.readOnlyHint == true or a.idempotentHint == true)
end

-- The params of the next MRTR round: the original ones plus the answers and the server's state, verbatim.
local function retry_params(self, params, result)
  local out = {}
  for k, v in pairs(params or {}) do
    out[k] = v
  end
  out.inputResponses, out.requestState = nil, nil
  if result.inputRequests ~= nil then
    out.inputResponses = input.responses(self, result.inputRequests)
  end
  if type(result.requestState) == "string" then
    out.requestState = result.requestState
  end
  return out
end

local function mutual_modern(e)
  local list = type(e.data) == "table" and e.data.supported
  if type(list) ~= "table" then
    return nil
  end
  local verdict = version.from_list(list, "request")
  return verdict.kind == "modern" and verdict.version or nil
end

-- What to do after one round: "retry" (with state updated), or "done".
function Session:next_step(o, answer, method, params, call, st)
  if o.lost and self.opts.reinitialize and not st.reinitialized then
    st.reinitialized = true
    local _, err = self:initialize()
    if err then
      o.err = err
      return "done"
    end
    self.reinitializations = self.reinitializations + 1
    return "retry"
  end
  if self.era == "modern" and answer.broken and st.reissues < kMaxReissues
      and self:safe_to_reissue(method, params, call) then
    st.reissues = st.reissues + 1
    return "retry"
  end
  if o.rpc and o.rpc.code == wire.UNSUPPORTED_PROTOCOL_VERSION and self.era == "modern" then
    local v = mutual_modern(o.rpc)
    if v and st.version_retries < kMaxVersionRetries then
      st.version_retries = st.version_retries + 1
      self.protocol_version = v
      return "retry"
    end
    o.err = new_error("version", method, { tool = call.tool, status = answer.status, code = o.rpc.code,
      data = o.rpc.data, message = "the server does not speak " .. tostring(self.protocol_version) })
    return "done"
  end
  if o.rpc and o.rpc.code == wire.HEADER_MISMATCH and method == "tools/call" and not st.relisted then
    st.relisted = true
    local _, err = self:tools_list_all({ fresh = true })
    return err and "done" or "retry"
  end
  return "done"
end

-- A result: complete, input_required (another round with the answers), or of a type this client does not know.
function Session:on_result(o, method, call, st)
  local kind = o.result.resultType
  if kind == nil or kind == "complete" then
    if call.tool and o.result.isError == true then
      o.err = new_error("tool", method, { tool = call.tool, message = tool_error_message(o.result) })
    end
    return "done"
  end
  if kind == "input_required" then
    metrics.input_required:add(1, metrics.tags(self, method, call.tool))
    st.rounds = st.rounds + 1
    if st.rounds > (self.opts.max_input_rounds or kMaxInputRounds) then
      o.err = new_error("protocol", method, { tool = call.tool, message = "the server still asks for input after "
        .. (st.rounds - 1) .. " rounds" })
      o.result = nil
      return "done"
    end
    st.params = retry_params(self, st.original, o.result)
    return "retry"
  end
  o.err = new_error("protocol", method, { tool = call.tool, message = "unknown resultType " .. tostring(kind) })
  o.result = nil
  return "done"
end

-- One logical request: every round (MRTR, version retry, re-issue, re-initialization) until an outcome.
function Session:run(method, params, call)
  local st = { original = params, params = params, rounds = 0, reissues = 0, version_retries = 0 }
  local notes, progress, started = {}, { method = method, tool = call.tool }, now()
  while true do
    local answer = self:exchange(method, st.params, call, notes, progress)
    local o = self:interpret(answer, method, call)
    local step
    if o.result then
      step = self:on_result(o, method, call, st)
    else
      step = self:next_step(o, answer, method, st.params, call, st)
    end
    if step == "done" then
      o.notifications, o.duration_ms, o.rounds = notes, now() - started, st.rounds
      return o
    end
  end
end

local function check_open(self, method)
  if self.closed then
    error(format("mcp %s: the session is not open (call session:initialize() first)", method), 3)
  end
end

-- A request in an open session. call: {tool =, timeout =, on_notification =, fresh = true (skip the cache),
-- reissue = bool}. Returns result, err, notifications.
function Session:request(method, params, call)
  if type(method) ~= "string" then
    error("session:request: method must be a string", 2)
  end
  call = call or {}
  check_open(self, method)
  local cacheable = cache.cacheable[method] and self.opts.cache ~= false
  if cacheable and not call.fresh then
    local hit = self.cache:get(method, params, self.transport:auth_context(), now())
    if hit then
      metrics.cache_hits:add(1, metrics.tags(self, method, call.tool))
      return hit, nil, {}
    end
  end
  local o = self:run(method, params, call)
  if o.result then
    self:note_server_info(o.result)
    if method == "tools/list" then
      self:register_tools(o.result)
    end
    if cacheable and o.rounds == 0 then
      self.cache:put(method, params, o.result, self.transport:auth_context(), now())
    end
  end
  metrics.record(self, method, call.tool, o.err ~= nil, o.duration_ms)
  return o.result, o.err, o.notifications
end

-- 2026-07-28 results identify the server in their _meta.
function Session:note_server_info(result)
  local meta = result._meta
  if type(meta) == "table" and type(meta[wire.META_SERVER_INFO]) == "table" then
    self.server_info = meta[wire.META_SERVER_INFO]
  end
end

local warned = {}

-- tools/list over HTTP in the modern era: tools whose x-mcp-header annotations are invalid are left out of the
-- result (and refused by call_tool); the others' Mcp-Param declarations and annotations are kept for tools/call.
function Session:register_tools(result)
  if type(result.tools) ~= "table" then
    return
  end
  local check = self.era == "modern" and self.transport.kind == "http"
  local kept = json.array()
  for _, tool in ipairs(result.tools) do
    local name = type(tool) == "table" and tool.name
    local decls, reason = wire.tool_headers(tool)
    if name and (decls or not check) then
      self.tool_headers[name], self.tool_annotations[name], self.rejected_tools[name] = decls, tool.annotations, nil
      kept[#kept + 1] = tool
    elseif name then
      self.rejected_tools[name] = reason
      if not warned[name] then
        warned[name] = true
        io.stderr:write(format("luaload.mcp: tool %q rejected: %s\n", tostring(name), reason))
      end
    end
  end
  result.tools = kept
end

-- A notification (no id, no response): true, or nil, err. Expects a 2xx answer (usually 202).
function Session:notify(method, params)
  if type(method) ~= "string" then
    error("session:notify: method must be a string", 2)
  end
  check_open(self, method)
  local answer = self.transport:notify({ jsonrpc = "2.0", method = method, params = params }, self:ctx(method, {},
    params))
  self.last_response = answer
  local o = self:interpret(answer, method, {})
  local status = answer.status
  if answer.err == nil and not o.lost and (status == nil or (status >= 200 and status < 300)) then
    o.err = nil  -- accepted (a notification has no response; stdio answers nothing)
  end
  metrics.record(self, method, nil, o.err ~= nil, answer.duration_ms)
  if o.err then
    return nil, o.err
  end
  return true
end

return M
