-- SPDX-License-Identifier: MIT
-- session:listen(filter, opts): the stream on which a server sends what no request asked for, read by a
-- background task of the VU (ll.spawn). Legacy era: the GET stream (filter unused: the server sends what it
-- wants). 2026-07-28: a subscriptions/listen request, whose open answer stream carries the notification types of
-- `filter` (default: the three list_changed kinds). A listener is open once the GET's head arrived (legacy) or the
-- server acknowledged the subscription (modern). Like every task it ends with the iteration that started it.
local ll = require("luaload")
local wire = require("luaload.mcp.wire")
local metrics = require("luaload.mcp.metrics")
local session = require("luaload.mcp.session")
local new_error = require("luaload.mcp.errors").new

local type, error, setmetatable = type, error, setmetatable
local now = ll.now

local Session = session.Session

local Listener = {}
Listener.__index = Listener

local default_filter = { toolsListChanged = true, promptsListChanged = true, resourcesListChanged = true }

local function wake(self)
  self.event:notify()
end

-- Called by the transport once the stream is established.
function Listener:opened(status)
  self.status = status
  if not self.modern then
    self.open = true
    wake(self)
  end
end

local function sink_for(s, self, opts)
  return function(m)
    local kind = wire.kind(m)
    if kind == "request" then
      s:answer_request(m)
    elseif m.method == "notifications/subscriptions/acknowledged" then
      self.acknowledged = type(m.params) == "table" and m.params.notifications or {}
      self.open = true
      wake(self)
    else
      s:on_message(m, opts, self.notifications, {})
    end
  end
end

local function failure(s, self, answer, method)
  if answer.err then
    return not self.closing and answer.err or nil
  end
  local status = answer.status
  if status and (status < 200 or status >= 300) then
    local rpc = wire.rpc_error_of(answer.error_body)
    if self.modern and rpc then
      return new_error("jsonrpc", method, { status = status, code = rpc.code, message = rpc.message, data = rpc.data })
    end
    local lost = not self.modern and status == 404 and s.id ~= nil
    return new_error(lost and "session_lost" or "http", method, { status = status, session_id = s.id,
      code = rpc and rpc.code, message = rpc and rpc.message or "the server refused the stream" })
  end
  if answer.response and type(answer.response.error) == "table" then
    local e = answer.response.error
    return new_error("jsonrpc", method, { code = e.code, message = e.message, data = e.data })
  end
  return nil
end

-- The body of the background task: one stream, read until it ends, fails or is closed.
local function run(s, self, opts)
  if self.closing then
    return
  end
  local method = self.modern and "subscriptions/listen" or "stream"
  local message
  if self.modern then
    s.next_id = s.next_id + 1
    self.subscription_id = s.next_id
    local params = s:envelope({ notifications = self.filter or default_filter })
    message = { jsonrpc = "2.0", id = s.next_id, method = method, params = params }
  end
  local ctx = s:ctx(method, { timeout = opts.idle_timeout })
  ctx.timeout = opts.idle_timeout
  local answer = s.transport:listen(message, ctx, sink_for(s, self, opts), self)
  self.status = self.status or answer.status
  self.ended_gracefully = answer.response ~= nil and answer.response.result ~= nil
  self.error = failure(s, self, answer, method)
  metrics.errors:add(self.error ~= nil, metrics.tags(s, method))
  self.ended = true
  s.listeners[self] = nil
  wake(self)
end

-- Opens the stream in a background task. opts: on_notification (default: the session's), idle_timeout (the
-- stream's, default 60 s). Returns the listener at once.
function Session:listen(filter, opts)
  if self.closed then
    error("mcp listen: the session is not open (call session:initialize() first)", 2)
  end
  if filter ~= nil and type(filter) ~= "table" then
    error("session:listen: filter must be a table", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("session:listen: opts must be a table", 2)
  end
  opts = opts or {}
  if opts.on_notification ~= nil and type(opts.on_notification) ~= "function" then
    error("session:listen: opts.on_notification must be a function", 2)
  end
  local self_ = setmetatable({ session = self, notifications = {}, closing = false, open = false,
    modern = self.era == "modern", filter = filter }, Listener)
  self_.event = ll.event()
  self.listeners[self_] = true
  self_.task = ll.spawn(run, self, self_, opts)
  return self_
end

-- The 2025 name of listen(): the GET stream (in the modern era, a subscriptions/listen with the default filter).
function Session:open_stream(opts)
  return self:listen(nil, opts)
end

-- Waits until the stream is open (true), or ended or `timeout_s` (default 10) passed: false, err.
function Listener:wait_open(timeout_s)
  local deadline = now() + (timeout_s or 10) * 1000
  while not self.open and not self.ended do
    local left = deadline - now()
    if left <= 0 then
      return false, new_error("http", self.modern and "subscriptions/listen" or "stream", { status = self.status or 0,
        message = "the stream did not open in time" })
    end
    self.event:wait(left / 1000)
  end
  if self.open then
    return true
  end
  return false, self.error
end

-- Stops reading; the task then ends. Idempotent.
function Listener:close()
  self.closing = true
  if self.stop then
    self.stop()
  end
end

-- Waits until the stream has ended (server end, error or close()); returns its error, if any.
function Listener:wait()
  self.task:wait()
  return self.error
end

return Listener
