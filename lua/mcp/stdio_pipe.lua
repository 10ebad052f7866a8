-- SPDX-License-Identifier: MIT
-- One stdio MCP server process and the routing of what it writes, for luaload.mcp.stdio (the transport). Several
-- exchanges (requests, listen streams) of one session, or of every session sharing a worker's process, wait at
-- once on one stdout; each has a mailbox and an ll.event.
--
-- Reading. luaload.process calls on_activity() from the engine (outside any coroutine) when lines arrived, the
-- write queue has room, or the process ended. It reads every queued line, decodes it and puts it in the mailbox
-- of the exchange it belongs to, whose event it notifies; it never yields and calls no script code. An exchange
-- takes its messages (and runs the session's sink on them) in its own coroutine. So nobody reads for anybody
-- else, no message is lost between a check and a wait, and nobody waits for a line that is already read.
--
-- Routing. Wire ids are the pipe's own (sessions sharing a process each count from 1): a response goes to the
-- exchange of its id; a notification with _meta subscriptionId to that listen exchange; notifications/progress to
-- the exchange of its progressToken. Messages that say nothing of where they belong (legacy server requests,
-- notifications/message, list changes) go, by kind, to the oldest request in flight or to a legacy listener;
-- with none open they wait in a short orphan list, which the transport hands to the session (its default sink)
-- before its next exchange. A late response (of a request that timed out or whose coroutine was interrupted) is
-- dropped.
--
-- Bounds. A mailbox holds at most kMailboxMessages: past that the pipe stops reading (the engine then stops
-- reading stdout and the server blocks) until that exchange took some. Exchanges are held weakly, so one whose
-- coroutine was interrupted is collected and frees the pipe.
--
-- | state    | event                                             | next                                        |
-- | running  | the process exits, and every line it wrote is routed | dead: every waiter woken, pipe.dead set  |
-- | running  | close()                                           | closed: process stopped, no more routing    |
local ll = require("luaload")
local process = require("luaload.process")

local type, pairs, next, setmetatable, pcall, tonumber = type, pairs, next, setmetatable, pcall, tonumber
local match, format, sub = string.match, string.format, string.sub

local M = {}

local kMailboxMessages = 256
local kOrphans = 64
local kStderrInMessage = 500  -- bytes of stderr's end quoted in the error message (err.stderr has it all)
local META_SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"

local Pipe = {}
Pipe.__index = Pipe
M.Pipe = Pipe

-- Exchanges ---------------------------------------------------------------------------------------------------------

-- A new exchange of `kind` ("request", "listen", "catch_all") for the message id `original_id`; registered under
-- a fresh wire id.
function Pipe:open(kind, original_id, progress_token)
  self.next_id = self.next_id + 1
  local ex = { kind = kind, id = self.next_id, original_id = original_id, first = 1, last = 0, event = ll.event(),
    pipe = self }
  self.exchanges[ex.id] = ex
  if progress_token ~= nil then
    self.progress[progress_token] = ex
  end
  if kind == "catch_all" then
    self.listeners[ex] = true
  end
  return ex
end

-- The messages that arrived while no exchange could take them (oldest first), handed over once.
function Pipe:take_orphans()
  local orphans = self.orphans
  self.orphans = {}
  return orphans
end

-- Unregisters the exchange. What it did not take (it got its response, or gave up) and belongs to no response
-- (server requests, notifications) goes where it would have gone without it, so that no one waits for it in vain.
function Pipe:close_exchange(ex)
  self.exchanges[ex.id] = nil
  self.listeners[ex] = nil
  for token, owner in pairs(self.progress) do
    if owner == ex then
      self.progress[token] = nil
    end
  end
  ex.closed = true
  for i = ex.first, ex.last do
    local m = ex[i]
    ex[i] = nil
    if m.method ~= nil then
      self:place(self:unattributed(m), m)
    end
  end
  ex.first = ex.last + 1
end

-- The next message of the exchange, or nil. Taking one may let a stalled pipe read on.
function Pipe:take(ex)
  if ex.first > ex.last then
    return nil
  end
  local m = ex[ex.first]
  ex[ex.first] = nil
  ex.first = ex.first + 1
  if self.held ~= nil then
    self:pump()
  end
  return m
end

-- Routing -----------------------------------------------------------------------------------------------------------

function Pipe:deliver(ex, m)
  ex.last = ex.last + 1
  ex[ex.last] = m
  ex.event:notify()
end

-- Puts `m` in the mailbox of `ex`, or with the orphans when there is no exchange for it.
function Pipe:place(ex, m)
  if ex then
    self:deliver(ex, m)
  elseif #self.orphans < kOrphans then
    self.orphans[#self.orphans + 1] = m
  end
end

local function full(ex)
  return ex.last - ex.first + 1 >= kMailboxMessages
end

-- The open request exchange with the lowest wire id (the oldest in flight).
function Pipe:oldest(kind)
  local best
  for id, ex in pairs(self.exchanges) do
    if ex.kind == kind and (best == nil or id < best.id) then
      best = ex
    end
  end
  return best
end

local listener_methods = { ["notifications/tools/list_changed"] = true, ["notifications/prompts/list_changed"] = true,
  ["notifications/resources/list_changed"] = true, ["notifications/resources/updated"] = true }

-- Where a message without a recognisable owner goes: changes to a legacy listener first, the rest to the oldest
-- request first.
function Pipe:unattributed(m)
  local listener = next(self.listeners)
  if listener_methods[m.method] and listener then
    return listener
  end
  return self:oldest("request") or listener
end

local function meta_of(m)
  local params = m.params
  return type(params) == "table" and type(params._meta) == "table" and params._meta or nil
end

-- The exchange `m` belongs to (nil: an orphan), restoring the session's ids in it.
function Pipe:route(m)
  if m.method == nil then
    local ex = type(m.id) == "number" and self.exchanges[m.id] or nil
    if ex then
      m.id = ex.original_id
      return ex, false
    end
    if m.id == nil or type(m.id) == "userdata" then  -- no id, or JSON null
      return self:oldest("request"), false  -- an error without an id (e.g. a parse error): the oldest request's
    end
    return nil, true  -- late: its exchange is gone
  end
  local meta = meta_of(m)
  local sub = meta and meta[META_SUBSCRIPTION_ID]
  if sub ~= nil and self.exchanges[sub] then
    local ex = self.exchanges[sub]
    meta[META_SUBSCRIPTION_ID] = ex.original_id
    return ex, false
  end
  local token = type(m.params) == "table" and m.params.progressToken
  if m.method == "notifications/progress" and token ~= nil and self.progress[token] then
    return self.progress[token], false
  end
  return self:unattributed(m), false
end

-- A line that is not a JSON-RPC message: kept for error messages, otherwise ignored (the spec forbids them; some
-- servers log to stdout anyway). An overlong line that names its id fails that request.
function Pipe:bad_line(text, overlong)
  self.bad_lines = self.bad_lines + 1
  self.last_bad_line = text
  if overlong then
    local id = tonumber(match(text, '"id"%s*:%s*(%d+)'))
    local ex = id and self.exchanges[id]
    if ex then
      ex.overlong = true
      ex.event:notify()
    end
  end
end

function Pipe:decode(text, overlong)
  if overlong then
    self:bad_line(text, true)
    return nil
  end
  local ok, m = pcall(self.json_decode, text)
  if not ok or type(m) ~= "table" then
    self:bad_line(text, false)
    return nil
  end
  return m
end

-- Routes every queued line until none is left or a mailbox is full. Re-entry (take() from a sink) is a no-op.
function Pipe:pump()
  if self.pumping or self.closed then
    return
  end
  self.pumping = true
  while true do
    local m, ex = self:next_message()
    if m == nil then
      break
    end
    if ex then
      if full(ex) then
        self.held = setmetatable({ m = m, ex = ex }, { __mode = "v" })
        break
      end
      self:deliver(ex, m)
    elseif ex == nil then
      self:place(nil, m)
    end
  end
  self.pumping = false
  if self.held == nil and not self.dead and self.proc:exit() ~= nil then
    self:on_death()
  end
end

-- The next message and its exchange (false: to drop, nil: an orphan); nil when no line is queued.
function Pipe:next_message()
  local held = self.held
  if held ~= nil then
    self.held = nil
    local m = held.m
    if held.ex ~= nil and not held.ex.closed then
      return m, held.ex
    end
    -- Its exchange was interrupted and collected (or closed): a response is dropped, the rest goes elsewhere.
    if m.method == nil then
      return m, false
    end
    return m, self:unattributed(m)
  end
  while true do
    local text, overlong = self.proc:read()
    if text == nil then
      return nil
    end
    local m = self:decode(text, overlong)
    if m ~= nil then
      local ex, late = self:route(m)
      if late then
        return m, false
      end
      return m, ex
    end
  end
end

-- Life and death ----------------------------------------------------------------------------------------------------

local function describe_exit(exit)
  if exit.signal ~= 0 then
    return "was killed by signal " .. exit.signal
  end
  return "exited with status " .. exit.status
end

function Pipe:on_death()
  local exit = self.proc:exit()
  local tail = self.proc:stderr()
  local quoted = sub(tail, -kStderrInMessage):gsub("%s+$", "")
  self.dead = { status = exit.status, signal = exit.signal, requested = exit.requested, stderr = tail,
    reason = exit.requested and "stopped" or (exit.signal ~= 0 and "signal" or "exit"),
    message = format("the server process (%s) %s%s", self.command, describe_exit(exit),
      quoted ~= "" and (": " .. quoted) or "") }
  for _, ex in pairs(self.exchanges) do
    ex.event:notify()
  end
  self.writable:notify()
end

-- A pipe over `proc` (a luaload.Process, or a stand-in with the same methods in tests) that decodes lines with
-- `decode` (luaload.mcp.json.decode: it keeps empty arrays apart from empty objects).
function M.new(command, shared, decode)
  return setmetatable({ command = command, shared = shared, json_decode = decode, next_id = 0,
    exchanges = setmetatable({}, { __mode = "v" }), progress = setmetatable({}, { __mode = "v" }),
    listeners = setmetatable({}, { __mode = "k" }), orphans = {}, writable = ll.event(), bad_lines = 0 }, Pipe)
end

-- The engine's callback: route what arrived, wake writers when there is room again.
function Pipe:on_activity(what)
  self:pump()
  if what == "writable" then
    self.writable:notify()
  end
end

-- Starts the process of `spec` (fields as luaload.process.spawn takes them); shared: owned by the worker.
-- Returns the pipe, or nil and a message.
function M.start(spec, shared, decode)
  local self = M.new(spec.command, shared, decode)
  local proc, message = process.spawn(spec, shared, function(what) self:on_activity(what) end)
  if proc == nil then
    return nil, message
  end
  self.proc = proc
  return self
end

-- Writes one message (a JSON text) by `deadline` (ll.now() ms): true, or nil and "closed" | "timeout".
function Pipe:write(text, deadline)
  while true do
    if self.dead or self.closed then
      return nil, "closed"
    end
    local result = self.proc:write(text)
    if result == "queued" then
      return true
    elseif result == "closed" then
      return nil, "closed"
    end
    local left = deadline - ll.now()
    if left <= 0 or not self.writable:wait(left / 1000) then
      return nil, "timeout"
    end
  end
end

-- Waits for news on `ex` until `deadline`; false when the deadline passed.
function Pipe:wait(ex, deadline)
  if ex.first <= ex.last or self.dead or ex.overlong then
    return true
  end
  local left = deadline - ll.now()
  return left > 0 and ex.event:wait(left / 1000)
end

-- Stops the process (end of input, then SIGTERM, then SIGKILL, in the background). Idempotent.
function Pipe:close()
  if self.closed then
    return
  end
  self.closed = true
  if self.proc then
    self.proc:close()
  end
  for _, ex in pairs(self.exchanges) do
    ex.event:notify()
  end
end

function Pipe:pid()
  return self.proc:pid()
end

return M
