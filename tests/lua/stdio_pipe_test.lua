-- SPDX-License-Identifier: MIT
-- luaload.mcp.stdio_pipe's routing, over a stand-in process: which exchange each message reaches, ids restored,
-- backpressure, orphans, and the end of the process. (The real process is covered by tests/bindings/process_test
-- and tests/integration/mcp_stdio_test.)
local ll = require("luaload")
local cjson = require("cjson")
local pipes = require("luaload.mcp.stdio_pipe")

-- A process that "wrote" the given lines; write() records what the pipe sends.
local function fake_process()
  local proc = { lines = {}, written = {}, exited = nil, tail = "" }
  function proc:read()
    local line = table.remove(self.lines, 1)
    if line == nil then
      return nil
    end
    if type(line) == "table" then
      return line.text, true  -- overlong
    end
    return line, false
  end
  function proc:write(text)
    self.written[#self.written + 1] = text
    return "queued"
  end
  function proc:exit() return self.exited end
  function proc:stderr() return self.tail end
  function proc:close() self.closed = true end
  function proc:pid() return 42 end
  return proc
end

local function new_pipe()
  local pipe = pipes.new("server", false, cjson.decode)
  pipe.proc = fake_process()
  return pipe, pipe.proc
end

-- The server writes `messages` (tables, encoded here) and the engine announces them.
local function arrive(pipe, ...)
  for _, m in ipairs({ ... }) do
    pipe.proc.lines[#pipe.proc.lines + 1] = type(m) == "string" and m or cjson.encode(m)
  end
  pipe:on_activity("lines")
end

local function all(pipe, ex)
  local out = {}
  while true do
    local m = pipe:take(ex)
    if m == nil then
      return out
    end
    out[#out + 1] = m
  end
end

test("a response reaches its exchange under the session's id, whatever wire id it had", function()
  local pipe = new_pipe()
  local a = pipe:open("request", 7)
  local b = pipe:open("request", 7)  -- another session sharing the process counts from 1 too
  t.eq(a.id ~= b.id, true)
  arrive(pipe, { jsonrpc = "2.0", id = b.id, result = { n = "b" } }, { jsonrpc = "2.0", id = a.id, result = { n = "a" } })
  local got_a, got_b = all(pipe, a), all(pipe, b)
  t.eq(#got_a, 1)
  t.eq(got_a[1].result.n, "a")
  t.eq(got_a[1].id, 7)
  t.eq(got_b[1].result.n, "b")
end)

test("progress goes to the request of its token, subscription notifications to their listen exchange", function()
  local pipe = new_pipe()
  local older = pipe:open("request", 1)
  local slow = pipe:open("request", 2, "tok-2")
  local sub = pipe:open("listen", 3)
  arrive(pipe,
    { jsonrpc = "2.0", method = "notifications/progress", params = { progressToken = "tok-2", progress = 1 } },
    { jsonrpc = "2.0", method = "notifications/tools/list_changed",
      params = { _meta = { ["io.modelcontextprotocol/subscriptionId"] = sub.id } } })
  t.eq(#all(pipe, older), 0)
  t.eq(all(pipe, slow)[1].params.progress, 1)
  local changes = all(pipe, sub)
  t.eq(#changes, 1)
  t.eq(changes[1].params._meta["io.modelcontextprotocol/subscriptionId"], 3)
end)

test("a message that names no exchange goes to the oldest request, list changes to a legacy listener", function()
  local pipe = new_pipe()
  local listener = pipe:open("catch_all", nil)
  local first = pipe:open("request", 1)
  pipe:open("request", 2)
  arrive(pipe, { jsonrpc = "2.0", id = "srv-1", method = "roots/list" },
    { jsonrpc = "2.0", method = "notifications/message", params = { level = "info" } },
    { jsonrpc = "2.0", method = "notifications/tools/list_changed" })
  local to_first = all(pipe, first)
  t.eq(#to_first, 2)
  t.eq(to_first[1].method, "roots/list")
  t.eq(to_first[1].id, "srv-1")  -- a server request keeps the server's id
  t.eq(to_first[2].method, "notifications/message")
  t.eq(all(pipe, listener)[1].method, "notifications/tools/list_changed")
end)

test("what an exchange leaves behind when it closes is routed again", function()
  local pipe = new_pipe()
  local first = pipe:open("request", 1)
  local second = pipe:open("request", 2)
  arrive(pipe, { jsonrpc = "2.0", id = first.id, result = {} }, { jsonrpc = "2.0", id = "s", method = "ping" })
  t.eq(pipe:take(first).id, 1)
  pipe:close_exchange(first)  -- got its response; the ping behind it is the next request's
  t.eq(all(pipe, second)[1].method, "ping")
end)

test("with nobody to take them, messages wait as orphans; late responses are dropped", function()
  local pipe = new_pipe()
  local gone = pipe:open("request", 1)
  pipe:close_exchange(gone)
  arrive(pipe, { jsonrpc = "2.0", id = gone.id, result = {} }, { jsonrpc = "2.0", method = "notifications/message" })
  local next_one = pipe:open("request", 2)
  t.eq(#all(pipe, next_one), 0)
  local orphans = pipe:take_orphans()
  t.eq(#orphans, 1)
  t.eq(orphans[1].method, "notifications/message")
  t.eq(#pipe:take_orphans(), 0)
end)

test("a full mailbox stops the reading until its exchange takes a message", function()
  local pipe, proc = new_pipe()
  local ex = pipe:open("request", 1)
  local other = pipe:open("request", 2, "tok")
  for i = 1, 300 do
    proc.lines[i] = cjson.encode({ jsonrpc = "2.0", method = "notifications/progress",
      params = { progressToken = "tok", progress = i } })
  end
  proc.lines[301] = cjson.encode({ jsonrpc = "2.0", id = ex.id, result = {} })
  pipe:on_activity("lines")
  t.eq(#proc.lines, 300 - 256)  -- 256 delivered, one held, the rest still queued in the process
  t.eq(ex.first > ex.last, true)
  t.eq(pipe:take(other).params.progress, 1)
  local rest = all(pipe, other)
  t.eq(#rest, 299)
  t.eq(rest[299].params.progress, 300)
  t.eq(pipe:take(ex).id, 1)
end)

test("lines that are not JSON-RPC are counted and skipped; an overlong answer fails its request", function()
  local pipe, proc = new_pipe()
  local ex = pipe:open("request", 1)
  proc.lines = { "starting server...", { text = '{"jsonrpc":"2.0","id":' .. ex.id .. ',"result":{"content":[' } }
  pipe:on_activity("lines")
  t.eq(pipe.bad_lines, 2)
  t.eq(pipe.last_bad_line:sub(1, 10), '{"jsonrpc"')
  t.eq(ex.overlong, true)
end)

test("the end of the process is known once its last line is routed, with its stderr in the message", function()
  local pipe, proc = new_pipe()
  local ex = pipe:open("request", 1)
  proc.lines = { cjson.encode({ jsonrpc = "2.0", method = "notifications/message" }) }
  proc.exited = { status = 3, signal = 0, requested = false }
  proc.tail = "Error: cannot read config\n"
  pipe:on_activity("exit")
  t.eq(all(pipe, ex)[1].method, "notifications/message")
  t.eq(pipe.dead.reason, "exit")
  t.eq(pipe.dead.message, "the server process (server) exited with status 3: Error: cannot read config")
  t.eq(pipe:wait(ex, ll.now() + 1000), true)  -- a waiter does not sleep on a dead pipe
end)

test("a waiter sleeps until a message for it arrives", function()
  local pipe = new_pipe()
  local ex = pipe:open("request", 1)
  ll.spawn(function()
    ll.sleep(0.02)
    arrive(pipe, { jsonrpc = "2.0", id = ex.id, result = { ok = true } })
  end)
  local started = ll.now()
  t.eq(pipe:wait(ex, ll.now() + 5000), true)
  t.truthy(ll.now() - started >= 15, "it slept until the message came")
  t.eq(pipe:take(ex).result.ok, true)
  t.eq(pipe:wait(pipe:open("request", 2), ll.now() + 30), false)  -- nothing for this one: the deadline passes
end)
