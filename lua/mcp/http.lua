-- SPDX-License-Identifier: MIT
-- The streamable HTTP transport of luaload.mcp (all revisions, 2025-03-26 to 2026-07-28).
--
-- THE TRANSPORT INTERFACE. luaload.mcp.session drives a transport; luaload.mcp.http (HTTP) and luaload.mcp.stdio
-- (a child process) implement it with the same shape, so every session method works on both.
--
-- Split of work. The session layer owns the protocol: era and version negotiation, the `_meta` envelope, JSON-RPC
-- ids, MRTR rounds, caching, re-issuing, re-initializing, answering server requests, metrics and the error values
-- scripts see. A transport owns the wire: it writes one JSON-RPC message, reads what answers it incrementally and
-- hands each message over as it arrives. A transport records no MCP metric, never sends a message the session did
-- not give it (HTTP resumption with GET + Last-Event-ID and authorization retries are wire-level and stay inside),
-- and never interprets a result.
--
-- Construction: M.new(target, opts) -> transport, where `opts` is the session's options table (headers, tags,
-- timeout, auth, http = a luaload.http look-alike for tests). transport.kind is "http" or "stdio".
--
-- `ctx`, built by the session for every exchange (all fields optional unless noted):
--   method         (required) the JSON-RPC method: Mcp-Method, error values, Mcp-Name's source
--   tool           the tool name of tools/call (error values)
--   version        the protocol version in use: MCP-Protocol-Version (nil while initialize is unanswered)
--   session_id     the legacy session id: Mcp-Session-Id
--   modern         true on 2026-07-28+: sends Mcp-Method, Mcp-Name and Mcp-Param-* (stdio ignores them)
--   name           Mcp-Name value, already encoded (luaload.mcp.wire.mcp_name)
--   param_headers  {["Mcp-Param-X"] = encoded value} for tools/call
--   tags           tags of the HTTP requests underneath (complete: the transport adds none)
--   timeout        seconds without a byte after which an answer is abandoned (idle timeout)
--   resume         legacy only: a stream that ends before its response may be resumed (GET + Last-Event-ID)
--   max_resumptions  bound on those reconnections for one request (default 5)
--   retry_ms       reconnection delay when the stream sent no SSE `retry` field (default 1000)
--   expected_statuses  the HTTP statuses that are an expected outcome of this exchange (luaload.http's
--                  params.expected_statuses: http_req_failed and the expected_response tag); nil: the default rule
--
-- `sink(message)` receives, in arrival order and while the answer is still being read, every notification and
-- server request (a decoded JSON-RPC table) that is not the awaited response. It may call transport:respond()
-- before it returns (over HTTP the answer goes on another connection while the stream stays open).
--
-- `answer`, what every method returns (a table; `err` nil on success):
--   response       the JSON-RPC response for message.id (result or error), or nil. A JSON (non-SSE) answer whose
--                  only message is a response without an id counts, as does an error response with a null id.
--   err            a luaload.mcp.errors value when the exchange failed below JSON-RPC: "http" (network failure:
--                  status 0 and error_code; a non-2xx status is NOT an err, see status), "protocol" (undecodable),
--                  "auth" (authorization could not be obtained), "process" (stdio: the server died)
--   broken         true when an answer had begun (2xx head, or the request written on stdio) and ended before its
--                  response: the session may re-issue it as a new request
--   status         HTTP status of the answer (0 before any head; nil on stdio)
--   headers        response headers (HTTP; nil on stdio)
--   body           the body of a JSON answer or a non-2xx answer (HTTP)
--   error_body     a non-2xx body decoded, when it is a JSON-RPC error message
--   session_id     Mcp-Session-Id of the answer (HTTP), else nil
--   sse            true when the answer was an event stream
--   duration_ms    sending the request -> end of its answer (ll.now() clock), resumptions included
--   first_event_ms sending the request -> first SSE event carrying a message (nil otherwise)
--   resumptions    GET + Last-Event-ID reconnections it took
--
-- Methods:
--   transport:request(message, ctx, sink) -> answer     a JSON-RPC request (table with jsonrpc, id, method,
--                                                         params); returns once its response arrived or it failed
--   transport:notify(message, ctx) -> answer              a JSON-RPC notification (HTTP: expects 2xx, usually 202)
--   transport:respond(message, ctx) -> answer             the JSON-RPC response to a server request
--   transport:listen(message, ctx, sink, handle) -> answer
--       a long-lived stream. message == nil: the legacy GET stream; otherwise the subscriptions/listen request.
--       Every message goes to sink except the response to `message`, which ends it (answer.response). The
--       transport calls handle:opened(status) once the stream is established (HTTP: 2xx head), sets
--       handle.stop = function() that aborts the read from another coroutine, and returns soon after
--       handle.closing becomes true.
--   transport:close_session(ctx) -> answer                legacy: end the session (HTTP DELETE; stdio: no-op)
--   transport:auth_context() -> string | nil              the authorization in use (cache key of private results;
--                                                         HTTP: auth:context() when the auth object has it)
--   transport:close()                                     release the transport (stdio: end the process); idempotent;
--                                                         a later exchange starts over (stdio: a new process)
--   (stdio restarts a dead process itself when opts.reinitialize is set; the session calls nothing for that)
--   transport.default_sink                                set by the session: where a transport delivers messages
--                                                         it cannot attribute to a pending exchange (stdio)
--
-- Authorization hooks (opts.auth): before every HTTP request auth:prepare(req) with req = {method, url, headers}
-- adds its headers (returns true, or nil, err); every 401/403 answer goes to auth:on_response(req, res) with
-- res = {status, headers, body}, which returns true when the request should be sent again (prepare is then called
-- again), else nil, err. At most kMaxAuthRounds sends per request (auth bounds its own attempts too).
local ll = require("luaload")
local http = require("luaload.http")
local sse = require("luaload.sse")
local json = require("luaload.mcp.json")
local wire = require("luaload.mcp.wire")
local new_error = require("luaload.mcp.errors").new

local type, pairs, ipairs, tostring, pcall, setmetatable = type, pairs, ipairs, tostring, pcall, setmetatable
local lower, find, sub, concat = string.lower, string.find, string.sub, table.concat
local now = ll.now

local M = {}

local kMaxAuthRounds = 4
local kDefaultMaxResumptions = 5
local kDefaultRetryMs = 1000

local Transport = {}
Transport.__index = Transport

-- The object behind opts.auth: a ready object (with prepare), or one built by luaload.mcp.auth from a config.
local function auth_object(opts, url)
  local config = opts.auth
  if config == nil then
    return nil
  end
  if type(config.prepare) == "function" then
    return config
  end
  return require("luaload.mcp.auth").new(config, { url = url, http = opts.http or http })
end

function M.new(url, opts)
  local self = setmetatable({ kind = "http", url = url, opts = opts, http = opts.http or http }, Transport)
  self.auth = auth_object(opts, url)
  return self
end

-- Headers ------------------------------------------------------------------------------------------------------

-- Headers the transport sets itself; the script's spelling of them (in any letter case) is dropped.
local own_headers = { accept = true, ["content-type"] = true, ["mcp-session-id"] = true,
  ["mcp-protocol-version"] = true, ["mcp-method"] = true, ["mcp-name"] = true, ["last-event-id"] = true }

local function headers_for(self, ctx, accept, with_body)
  local headers = {}
  for k, v in pairs(self.opts.headers or {}) do
    local name = lower(tostring(k))
    if not own_headers[name] and sub(name, 1, 10) ~= "mcp-param-" then
      headers[k] = v
    end
  end
  headers["Accept"] = accept
  headers["Content-Type"] = with_body and "application/json" or nil
  headers["Mcp-Session-Id"] = ctx.session_id
  headers["MCP-Protocol-Version"] = ctx.version
  if ctx.modern then
    headers["Mcp-Method"] = ctx.method
    headers["Mcp-Name"] = ctx.name
    for k, v in pairs(ctx.param_headers or {}) do
      headers[k] = v
    end
  end
  return headers
end

local function header(headers, name)
  return headers and headers[name]
end

-- Sending with authorization -------------------------------------------------------------------------------------

local function auth_error(err, ctx)
  if type(err) == "table" and err.kind then
    return err
  end
  return new_error("auth", ctx.method, { tool = ctx.tool, message = tostring(err or "authorization failed") })
end

-- The request's rule of expected statuses (params.expected_statuses) with 401 added: a request sent without a
-- token before discovery expects the server's challenge.
local kChallengeExpected = { { min = 200, max = 399 }, 401 }

local function with_challenge(expected)
  if expected == nil then
    return kChallengeExpected
  end
  local list = { 401 }
  for i = 1, #expected do
    list[i + 1] = expected[i]
  end
  return list
end

-- Sends with `send_fn(req, expected_statuses)` (which returns a res-like table), letting opts.auth prepare it and
-- react to 401/403. `body_of(res)` reads the body of a refused answer. Returns res, or nil, err.
local function with_auth(self, req, ctx, send_fn, body_of)
  for _ = 1, kMaxAuthRounds do
    local expected = ctx.expected_statuses
    if self.auth then
      local ok, err = self.auth:prepare(req)
      if not ok then
        return nil, auth_error(err, ctx)
      end
      if req.auth_challenge_expected then
        expected = with_challenge(expected)
      end
    end
    local res = send_fn(req, expected)
    if not (self.auth and (res.status == 401 or res.status == 403)) then
      return res
    end
    local again, err = self.auth:on_response(req, { status = res.status, headers = res.headers, body = body_of(res) })
    if not again then
      return nil, auth_error(err, ctx)
    end
  end
  return nil, new_error("auth", ctx.method, { tool = ctx.tool, message = "still refused after " .. kMaxAuthRounds
    .. " authorized attempts" })
end

local function read_all(reader)
  local parts = {}
  while true do
    local chunk = reader:read()
    if chunk == nil then
      break
    end
    parts[#parts + 1] = chunk
  end
  return concat(parts)
end

local function open_stream(self, method, body, ctx, accept, extra)
  local req = { method = method, url = self.url, headers = headers_for(self, ctx, accept, body ~= nil) }
  for k, v in pairs(extra or {}) do
    req.headers[k] = v
  end
  return with_auth(self, req, ctx, function(r, expected)
    return self.http.stream(r.method, r.url, body, { headers = r.headers, tags = ctx.tags, idle_timeout = ctx.timeout,
      expected_statuses = expected })
  end, read_all)
end

local function send_buffered(self, method, body, ctx)
  local req = { method = method, url = self.url, headers = headers_for(self, ctx, "application/json, text/event-stream",
    body ~= nil) }
  return with_auth(self, req, ctx, function(r, expected)
    return self.http.request(r.method, r.url, body, { headers = r.headers, tags = ctx.tags, timeout = ctx.timeout,
      expected_statuses = expected })
  end, function(res) return res.body end)
end

-- Answers --------------------------------------------------------------------------------------------------------

local function network_error(ctx, res, broken)
  return new_error("http", ctx.method, { tool = ctx.tool, status = broken and res.status or 0,
    message = res.error, error_code = res.error_code })
end

local function is_sse(headers)
  return find(lower(header(headers, "Content-Type") or ""), "text/event-stream", 1, true) ~= nil
end

-- Fills answer.status/headers/body/error_body for a non-2xx answer whose body is `body`.
local function refused(answer, body)
  answer.body = body
  local value = json.decode(body)
  if wire.rpc_error_of(value) then
    answer.error_body = value
  end
  return answer
end

local function is_response_to(m, id)
  return wire.kind(m) == "response" and m.id == id
end

-- Routes the decoded JSON-RPC text of one message (or batch); sets answer.response when it is ours.
-- Returns an error value when the text is not JSON-RPC.
local function route(text, id, ctx, sink, answer)
  local value = json.decode(text)
  if type(value) ~= "table" then
    return new_error("protocol", ctx.method, { tool = ctx.tool, status = answer.status,
      message = "invalid JSON-RPC message: " .. sub(text, 1, 200) })
  end
  local batch = value[1] ~= nil and value or { value }
  for _, m in ipairs(batch) do
    local kind = wire.kind(m)
    if is_response_to(m, id) then
      answer.response = m
    elseif kind == "response" and (m.id == nil or m.id == json.null) and answer.orphan == nil then
      answer.orphan = m
    elseif kind == "notification" or kind == "request" then
      sink(m)
    end
  end
  return nil
end

local function json_answer(self, reader, message, ctx, sink, answer)
  local body = read_all(reader)
  answer.body = body
  if reader.error then
    answer.err, answer.broken = network_error(ctx, reader, true), true
    return answer
  end
  if body == "" then
    return answer
  end
  answer.err = route(body, message.id, ctx, sink, answer)
  return answer
end

-- Reads one event stream until our response arrived or the stream ended. state: {last_id, retry}.
local function read_events(reader, id, ctx, sink, answer, state, started)
  local parser = sse.parser({ report_empty = true })
  while answer.response == nil and answer.orphan == nil do
    local chunk = reader:read()
    if chunk == nil then
      break
    end
    local ok, events = pcall(parser.feed, parser, chunk)
    if not ok then
      reader:close()
      return new_error("protocol", ctx.method, { tool = ctx.tool, status = answer.status, message = tostring(events) })
    end
    for _, ev in ipairs(events) do
      state.retry = ev.retry or state.retry
      if ev.id ~= "" then
        state.last_id = ev.id
      end
      if ev.data ~= "" and not ev.empty then
        answer.first_event_ms = answer.first_event_ms or now() - started
        local err = route(ev.data, id, ctx, sink, answer)
        if err then
          reader:close()
          return err
        end
      end
    end
  end
  reader:close()
  return nil
end

-- A legacy stream that ended early: reconnect with GET + Last-Event-ID after `retry` ms. The new reader, or nil.
local function resume(self, ctx, answer, state)
  if not ctx.resume or state.last_id == nil or answer.resumptions >= (ctx.max_resumptions or kDefaultMaxResumptions) then
    return nil
  end
  local delay = state.retry or ctx.retry_ms or kDefaultRetryMs
  if delay > 0 then
    ll.sleep(delay / 1000)
  end
  answer.resumptions = answer.resumptions + 1
  local reader = open_stream(self, "GET", nil, ctx, "text/event-stream", { ["Last-Event-ID"] = state.last_id })
  if reader == nil or reader.status ~= 200 then
    if reader then
      reader:close()
    end
    return nil
  end
  return reader
end

local function sse_answer(self, reader, message, ctx, sink, answer, started)
  answer.sse = true
  local state = {}
  while true do
    local err = read_events(reader, message.id, ctx, sink, answer, state, started)
    if err or answer.response or answer.orphan then
      answer.err = err
      return answer
    end
    local failure = reader.error and reader
    reader = resume(self, ctx, answer, state)
    if reader == nil then
      answer.broken = true
      answer.err = failure and network_error(ctx, failure, true) or new_error("http", ctx.method, { tool = ctx.tool,
        status = answer.status, message = "the answer stream ended before the response" })
      return answer
    end
  end
end

local function finish(answer, started)
  if answer.response == nil and answer.err == nil then
    answer.response, answer.orphan = answer.orphan, nil
  end
  answer.duration_ms = now() - started
  return answer
end

-- Methods --------------------------------------------------------------------------------------------------------

function Transport:request(message, ctx, sink)
  local started = now()
  local answer = { resumptions = 0 }
  local reader, err = open_stream(self, "POST", json.encode(message), ctx, "application/json, text/event-stream")
  if reader == nil then
    answer.err = err
    return finish(answer, started)
  end
  answer.status, answer.headers = reader.status, reader.headers
  answer.session_id = header(reader.headers, "Mcp-Session-Id")
  if reader.status == 0 then
    answer.err = network_error(ctx, reader, false)
  elseif reader.status < 200 or reader.status >= 300 then
    refused(answer, read_all(reader))
  elseif is_sse(reader.headers) then
    sse_answer(self, reader, message, ctx, sink, answer, started)
  else
    json_answer(self, reader, message, ctx, sink, answer)
  end
  return finish(answer, started)
end

-- A buffered POST or DELETE whose answer carries no JSON-RPC response (notifications, responses, close).
local function one_shot(self, method, message, ctx)
  local started = now()
  local res, err = send_buffered(self, method, message and json.encode(message), ctx)
  local answer = { resumptions = 0, err = err }
  if res then
    answer.status, answer.headers = res.status, res.headers
    if res.status == 0 then
      answer.err = network_error(ctx, res, false)
    elseif res.status < 200 or res.status >= 300 then
      refused(answer, res.body)
    end
  end
  answer.duration_ms = now() - started
  return answer
end

function Transport:notify(message, ctx)
  return one_shot(self, "POST", message, ctx)
end

function Transport:respond(message, ctx)
  return one_shot(self, "POST", message, ctx)
end

function Transport:close_session(ctx)
  if ctx.session_id == nil then
    return { resumptions = 0 }
  end
  return one_shot(self, "DELETE", nil, ctx)
end

local function read_listen(reader, id, ctx, sink, handle, answer)
  local parser = sse.parser()
  while not handle.closing and answer.response == nil do
    local chunk = reader:read()
    if chunk == nil then
      break
    end
    local ok, events = pcall(parser.feed, parser, chunk)
    if not ok then
      return new_error("protocol", ctx.method, { status = answer.status, message = tostring(events) })
    end
    for _, ev in ipairs(events) do
      if ev.data ~= "" and not handle.closing then
        local err = route(ev.data, id, ctx, sink, answer)
        if err then
          return err
        end
      end
    end
  end
  return nil
end

function Transport:listen(message, ctx, sink, handle)
  local started = now()
  local answer = { resumptions = 0, sse = true }
  local body = message and json.encode(message)
  local reader, err = open_stream(self, message and "POST" or "GET", body, ctx, message
    and "application/json, text/event-stream" or "text/event-stream")
  if reader == nil then
    answer.err = err
    return finish(answer, started)
  end
  handle.stop = function() reader:close() end
  answer.status, answer.headers = reader.status, reader.headers
  if reader.status == 0 then
    answer.err = network_error(ctx, reader, false)
  elseif reader.status < 200 or reader.status >= 300 then
    refused(answer, read_all(reader))
  else
    handle:opened(reader.status)
    answer.err = read_listen(reader, message and message.id, ctx, sink, handle, answer)
    if answer.err == nil and reader.error and not handle.closing then
      answer.err, answer.broken = network_error(ctx, reader, true), true
    end
  end
  reader:close()
  answer.duration_ms = now() - started
  return answer
end

-- The authorization the next request would carry: auth:context() when the auth object has it (no I/O), else what
-- auth:prepare adds to a scratch request (which may renew a token that is due); without opts.auth the script's own
-- Authorization header.
function Transport:auth_context()
  if self.auth and type(self.auth.context) == "function" then
    return self.auth:context()
  end
  if self.auth then
    local req = { method = "POST", url = self.url, headers = {} }
    if self.auth:prepare(req) then
      return header(req.headers, "Authorization")
    end
    return nil
  end
  for k, v in pairs(self.opts.headers or {}) do
    if lower(tostring(k)) == "authorization" then
      return v
    end
  end
  return nil
end

function Transport:close()
end

return M
