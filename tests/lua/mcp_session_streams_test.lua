-- SPDX-License-Identifier: MIT
-- luaload.mcp sessions against scripted answers (a fake luaload.http): SSE answers and server requests
-- mid-stream, resumption and re-issuing, auth hooks, close, lost sessions, listen, and the session layer over a
-- transport without HTTP. No network. The era, MRTR and caching: mcp_session_test.lua.
local mcp = require("luaload.mcp")
local json = require("luaload.mcp.json")
local ll = require("luaload")
local dir = debug.getinfo(t.test, "S").source:match("^@(.*/)")  -- tests/lua/support/
local F = dofile(dir .. "mcp_fake_http.lua")
local S = dofile(dir .. "mcp_sessions.lua")("streams", F)
local url, session, method_of = S.url, S.session, S.method_of
local discover_result, modern_server, legacy_server = S.discover_result, S.modern_server, S.legacy_server

test("SSE answers: notifications arrive in order and a legacy server request is answered mid-stream", function()
  local s, log
  local answered_before_next_chunk
  s, log = session(function(req)
    local m, id = method_of(req), req.json and req.json.id
    if m == "initialize" then
      return F.result(id, { protocolVersion = "2025-11-25", capabilities = {}, serverInfo = { name = "x" } },
        { ["Mcp-Session-Id"] = "s1" })
    elseif m == "tools/call" then
      return F.sse({
        F.event({ jsonrpc = "2.0", method = "notifications/progress", params = { progressToken = 1, progress = 1 } }),
        F.event({ jsonrpc = "2.0", id = "srv-1", method = "roots/list" }),
        function()
          answered_before_next_chunk = log[#log].json and log[#log].json.id == "srv-1"
          return ": comment\n\n"
        end,
        F.event({ jsonrpc = "2.0", id = id, result = { content = { { type = "text", text = "done" } } } }),
      })
    end
    return { status = 202, body = "" }
  end, { protocol_version = "2025-11-25", roots = { { uri = "file:///r", name = "r" } } })
  assert(s:initialize())
  local seen = {}
  local result, err, notes = s:call_tool("work", {}, { progress = true,
    on_notification = function(n) seen[#seen + 1] = n.method end })
  t.eq(err, nil)
  t.eq(result.content[1].text, "done")
  t.eq(#notes, 1)
  t.eq(seen, { "notifications/progress" })
  t.truthy(answered_before_next_chunk, "the roots/list answer went out while the stream was open")
  local reply = log[#log]
  t.eq(reply.json.result, { roots = { { uri = "file:///r", name = "r" } } })
  t.eq(reply.headers["Mcp-Session-Id"], "s1")
  t.eq(reply.tags.mcp_method, "response")
  t.truthy(s.last_response.sse)
end)

test("an empty roots answer is sent as [] and a declined elicitation by default", function()
  local s, log = session(function(req)
    local m, id = method_of(req), req.json and req.json.id
    if m == "initialize" then
      return F.result(id, { protocolVersion = "2025-11-25", capabilities = {}, serverInfo = { name = "x" } })
    elseif m == "tools/call" then
      return F.sse({ F.event({ jsonrpc = "2.0", id = "r", method = "roots/list" }),
        F.event({ jsonrpc = "2.0", id = "e", method = "elicitation/create", params = { message = "?" } }),
        F.event({ jsonrpc = "2.0", id = "u", method = "unknown/thing" }),
        F.event({ jsonrpc = "2.0", id = id, result = {} }) })
    end
    return { status = 202, body = "" }
  end, { protocol_version = "2025-11-25" })
  assert(s:initialize())
  assert(s:call_tool("work", {}))
  t.truthy(log[#log - 2].body:find('"result":{"roots":[]}', 1, true), log[#log - 2].body)
  t.eq(log[#log - 2].json.id, "r")
  t.eq(log[#log - 1].json.result, { action = "decline" })
  t.eq(log[#log].json.error.code, -32601)
end)

test("elicitation defaults are applied to an accepted form when the client declares applyDefaults", function()
  local s, log = session(function(req)
    local m, id = method_of(req), req.json and req.json.id
    if m == "initialize" then
      return F.result(id, { protocolVersion = "2025-11-25", capabilities = {}, serverInfo = { name = "x" } })
    elseif m == "tools/call" then
      return F.sse({ F.event({ jsonrpc = "2.0", id = "e", method = "elicitation/create", params = { message = "?",
        requestedSchema = { type = "object", properties = { name = { type = "string", default = "John" },
          age = { type = "integer", default = 30 }, given = { type = "string", default = "x" } } } } }),
        F.event({ jsonrpc = "2.0", id = id, result = {} }) })
    end
    return { status = 202, body = "" }
  end, { protocol_version = "2025-11-25", capabilities = { elicitation = { applyDefaults = true } },
    on_request = function() return { action = "accept", content = { given = "mine" } } end })
  assert(s:initialize())
  assert(s:call_tool("work", {}))
  t.eq(log[#log].json.result, { action = "accept", content = { name = "John", age = 30, given = "mine" } })
end)

test("a legacy stream that ends before its response is resumed with GET + Last-Event-ID after retry ms", function()
  local gets = {}
  local closed_at
  local s, log = session(function(req)
    local m, id = method_of(req), req.json and req.json.id
    if req.method == "GET" then
      gets[#gets + 1] = { at = ll.now(), last = req.headers["Last-Event-ID"] }
      return F.sse({ F.event(nil, { "id: e2" }) .. F.event({ jsonrpc = "2.0", id = 2, result = { content = {} } },
        { "id: e3" }) })
    elseif m == "initialize" then
      return F.result(id, { protocolVersion = "2025-11-25", capabilities = {}, serverInfo = { name = "x" } },
        { ["Mcp-Session-Id"] = "s1" })
    elseif m == "tools/call" then
      return F.sse({ "id: e1\nretry: 60\ndata: \n\n", function() closed_at = ll.now() return nil end })
    end
    return { status = 202, body = "" }
  end, { protocol_version = "2025-11-25" })
  assert(s:initialize())
  local result, err = s:call_tool("slow", {})
  t.eq(err, nil)
  t.truthy(result, "the response came on the resumed stream")
  t.eq(#gets, 1)
  t.eq(gets[1].last, "e1")
  t.truthy(gets[1].at - closed_at >= 55, "waited the retry field: " .. (gets[1].at - closed_at) .. " ms")
  t.eq(s.last_response.resumptions, 1)
  t.eq(log[#log].headers["Mcp-Session-Id"], "s1")
end)

test("resumption attempts are bounded; without an event id there is none", function()
  local gets = 0
  local s = session(function(req)
    local m, id = method_of(req), req.json and req.json.id
    if req.method == "GET" then
      gets = gets + 1
      return F.sse({ "id: g" .. gets .. "\ndata: \n\n" })
    elseif m == "initialize" then
      return F.result(id, { protocolVersion = "2025-11-25", capabilities = {}, serverInfo = { name = "x" } })
    elseif m == "tools/call" then
      return F.sse({ req.json.params.name == "idless" and "data: \n\n" or "id: e1\nretry: 1\ndata: \n\n" })
    end
    return { status = 202, body = "" }
  end, { protocol_version = "2025-11-25", max_resumptions = 3 })
  assert(s:initialize())
  local result, err = s:call_tool("slow", {})
  t.eq(result, nil)
  t.eq(err.kind, "http")
  t.eq(gets, 3)
  local _, err2 = s:call_tool("idless", {})
  t.eq(err2.kind, "http")
  t.eq(gets, 3, "no id, no resumption")
end)

test("2026-07-28: a broken stream re-issues safe requests with a new id, not tool calls", function()
  local attempts = {}
  local s = session(modern_server(function(req, m, id)
    if m == "tools/list" or m == "tools/call" then
      attempts[#attempts + 1] = m .. ":" .. id
      if #attempts == 1 or m == "tools/call" then
        return F.sse({ ": open\n\n" }, nil)
      end
    end
  end), { protocol_version = "2026-07-28" })
  assert(s:initialize())
  local list, err = s:tools_list()
  t.eq(err, nil)
  t.truthy(list.tools, "re-issued")
  local _, cerr = s:call_tool("echo", {})
  t.eq(cerr.kind, "http")
  t.eq(#attempts, 3, "the tool call was not repeated")
  t.truthy(attempts[1] ~= attempts[2], "a new id")
end)

test("auth hooks: prepare on every request, on_response on 401, then the request is sent again", function()
  local prepared, refused = 0, 0
  local auth = {
    prepare = function(_, req)
      prepared = prepared + 1
      req.headers.Authorization = "Bearer t" .. prepared
      return true
    end,
    on_response = function(_, req, res)
      refused = refused + 1
      t.eq(res.status, 401)
      t.eq(res.headers["WWW-Authenticate"], 'Bearer resource_metadata="x"')
      t.eq(req.method, "POST")
      return true
    end,
  }
  local s, log = session(function(req)
    if req.headers.Authorization == "Bearer t1" then
      return { status = 401, headers = { ["WWW-Authenticate"] = 'Bearer resource_metadata="x"' }, body = "" }
    end
    return modern_server()(req)
  end, { protocol_version = "2026-07-28", auth = auth })
  assert(s:initialize())
  assert(s:call_tool("echo", {}))
  t.eq(prepared, 2)
  t.eq(refused, 1)
  t.eq(log[2].headers.Authorization, "Bearer t2")
  local denied = session(function() return { status = 403, body = "" } end, { protocol_version = "2026-07-28",
    auth = { prepare = function() return true end, on_response = function() return nil, "insufficient_scope" end } })
  assert(denied:initialize())
  local _, err = denied:call_tool("echo", {})
  t.eq(err.kind, "auth")
  t.truthy(tostring(err):find("insufficient_scope"), tostring(err))
end)

test("close: DELETE with the session id; 400 'no valid session', 404 and 405 count as closed", function()
  for _, status in ipairs({ 204, 400, 404, 405, 500 }) do
    local s, log = session(function(req)
      if req.method == "DELETE" then
        return { status = status, body = status == 400 and "Bad Request: No valid session ID provided" or "" }
      end
      return legacy_server()(req)
    end, { protocol_version = "2025-11-25" })
    assert(s:initialize())
    local ok, err = s:close()
    t.eq(log[#log].method, "DELETE")
    t.eq(log[#log].headers["Mcp-Session-Id"], "sid-1")
    if status == 500 then
      t.eq(ok, nil)
      t.eq(err.kind, "http")
    else
      t.eq(ok, true, "status " .. status)
    end
    t.eq(s.closed, true)
  end
end)

test("a lost legacy session is re-initialized and the request retried once with opts.reinitialize", function()
  local sessions = 0
  local s = session(function(req)
    local m, id = method_of(req), req.json and req.json.id
    if m == "initialize" then
      sessions = sessions + 1
      return F.result(id, { protocolVersion = "2025-11-25", capabilities = {}, serverInfo = { name = "x" } },
        { ["Mcp-Session-Id"] = "s" .. sessions })
    elseif m == "tools/list" and req.headers["Mcp-Session-Id"] == "s1" then
      return { status = 404, body = "Session not found" }
    elseif m == "tools/list" then
      return F.result(id, { tools = {} })
    end
    return { status = 202, body = "" }
  end, { protocol_version = "2025-11-25", reinitialize = true })
  assert(s:initialize())
  local result, err = s:tools_list()
  t.eq(err, nil)
  t.truthy(result, "retried")
  t.eq(s.id, "s2")
  t.eq(s.reinitializations, 1)
end)

test("a JSON answer whose only message is a response without an id is the response", function()
  local s = session(function(req)
    return F.json(200, { jsonrpc = "2.0", result = { resultType = "complete", tools = {} } })
  end, { protocol_version = "2026-07-28" })
  assert(s:initialize())
  local result, err = s:tools_list()
  t.eq(err, nil)
  t.eq(result.tools, {})
end)

test("misuse raises: unknown protocol_version, requests on a closed session", function()
  t.raises(function() mcp.new("http://x/mcp", { protocol_version = "2024-11-05" }) end, "unsupported protocol_version")
  local s = session(modern_server(), { protocol_version = "2026-07-28" })
  t.raises(function() s:tools_list() end, "not open")
  t.eq(json.encode(mcp.array()), "[]")
end)

test("listen (legacy): the GET stream opens in a task, delivers notifications, answers requests, closes", function()
  local s, log
  s, log = session(function(req)
    local m, id = method_of(req), req.json and req.json.id
    if req.method == "GET" then
      t.eq(req.headers["Accept"], "text/event-stream")
      t.eq(req.headers["Mcp-Session-Id"], "s1")
      return F.sse({ F.event({ jsonrpc = "2.0", method = "notifications/tools/list_changed" }),
        F.event({ jsonrpc = "2.0", id = "p", method = "ping" }), function() ll.sleep(0.01) return ": idle\n\n" end })
    elseif m == "initialize" then
      return F.result(id, { protocolVersion = "2025-11-25", capabilities = {}, serverInfo = { name = "x" } },
        { ["Mcp-Session-Id"] = "s1" })
    end
    return { status = 202, body = "" }
  end, { protocol_version = "2025-11-25" })
  assert(s:initialize())
  local seen = {}
  local listener = s:listen(nil, { on_notification = function(n) seen[#seen + 1] = n.method end })
  t.eq(listener:wait_open(5), true)
  listener:wait()
  t.eq(listener.error, nil)
  t.eq(seen, { "notifications/tools/list_changed" })
  t.eq(#listener.notifications, 1)
  t.eq(log[#log].json.result, {}, "ping answered")
  t.eq(listener.status, 200)
end)

test("listen (2026-07-28): subscriptions/listen with the filter, open once acknowledged, ended by the response", function()
  local s, log = session(modern_server(function(req, m, id)
    if m == "subscriptions/listen" then
      t.eq(req.json.params.notifications, { toolsListChanged = true })
      local meta = { ["io.modelcontextprotocol/subscriptionId"] = id }
      return F.sse({ F.event({ jsonrpc = "2.0", method = "notifications/subscriptions/acknowledged",
        params = { _meta = meta, notifications = { toolsListChanged = true } } }),
        F.event({ jsonrpc = "2.0", method = "notifications/tools/list_changed", params = { _meta = meta } }),
        F.event({ jsonrpc = "2.0", id = id, result = { resultType = "complete", _meta = meta } }),
        function() error("read past the response") end })
    end
  end), { protocol_version = "2026-07-28" })
  assert(s:initialize())
  local listener = s:listen({ toolsListChanged = true })
  t.eq(listener:wait_open(5), true)
  t.eq(listener.acknowledged, { toolsListChanged = true })
  t.eq(listener:wait(), nil)
  t.eq(#listener.notifications, 1)
  t.truthy(listener.ended_gracefully, "the response ended it")
  t.eq(log[1].headers["Mcp-Method"], "subscriptions/listen")
end)

test("listen: a refused stream ends with an error and wait_open says so", function()
  local s = session(function(req)
    local m, id = method_of(req), req.json and req.json.id
    if req.method == "GET" then
      return { status = 405, body = "Method Not Allowed" }
    elseif m == "initialize" then
      return F.result(id, { protocolVersion = "2025-11-25", capabilities = {}, serverInfo = { name = "x" } })
    end
    return { status = 202, body = "" }
  end, { protocol_version = "2025-11-25" })
  assert(s:initialize())
  local listener = s:listen()
  local ok, err = listener:wait_open(5)
  t.eq(ok, false)
  t.eq(err.kind, "http")
  t.eq(err.status, 405)
end)

test("opts.reissue = always re-issues a broken tool call too; never re-issues nothing", function()
  for _, case in ipairs({ { policy = "always", method = "tools/call", attempts = 2 },
      { policy = "never", method = "tools/list", attempts = 1 } }) do
    local attempts = 0
    local s = session(modern_server(function(_, m, id)
      if m == case.method then
        attempts = attempts + 1
        if attempts == 1 then
          return F.sse({ ": open\n\n" })
        end
      end
    end), { protocol_version = "2026-07-28", reissue = case.policy })
    assert(s:initialize())
    if case.method == "tools/call" then
      s:call_tool("echo", {})
    else
      s:tools_list()
    end
    t.eq(attempts, case.attempts, case.policy)
  end
  t.raises(function() mcp.new("http://x/mcp", { reissue = "sometimes" }) end, "opts.reissue")
end)

-- A transport without HTTP (the shape luaload.mcp.stdio implements): no status, no headers.
local function fake_pipe(handler)
  local log = {}
  local transport = { kind = "stdio" }
  function transport:request(message, ctx, sink)
    log[#log + 1] = message
    return handler(message, sink) or { response = nil, err = { kind = "process", message = "dead" } }
  end
  function transport:notify(message) log[#log + 1] = message return { resumptions = 0 } end
  function transport:respond(message) log[#log + 1] = message return { resumptions = 0 } end
  function transport:close_session() return { resumptions = 0 } end
  function transport:auth_context() return nil end
  function transport:close() self.closed = true end
  return transport, log
end

test("the session layer works over a transport without HTTP: probe fallback, handshake, notify, close", function()
  local session_mod = require("luaload.mcp.session")
  local transport, log = fake_pipe(function(m, sink)
    if m.method == "server/discover" then
      return { response = { jsonrpc = "2.0", id = m.id, error = { code = -32601, message = "Method not found" } } }
    elseif m.method == "initialize" then
      return { response = { jsonrpc = "2.0", id = m.id, result = { protocolVersion = "2025-06-18", capabilities = {},
        serverInfo = { name = "pipe" } } } }
    elseif m.method == "tools/call" then
      sink({ jsonrpc = "2.0", id = 9, method = "roots/list" })
      return { response = { jsonrpc = "2.0", id = m.id, result = { content = {} } } }
    end
  end)
  local spec = { command = "server" }
  local s = session_mod.new(spec, {}, transport)
  assert(s:initialize())
  t.eq(s.era, "legacy")
  t.eq(s.protocol_version, "2025-06-18")
  t.eq(log[3].method, "notifications/initialized")
  local _, err = s:call_tool("x", {})
  t.eq(err, nil)
  t.eq(log[#log].result, { roots = {} }, "the server request answered through transport:respond")
  t.eq(s:close(), true)
  t.truthy(transport.closed, "transport:close() called")
  local again = session_mod.new(spec, {}, transport)
  assert(again:initialize())
  t.eq(log[#log - 1].method, "initialize", "the era is cached per target object: no second probe")
end)

test("over stdio a probe that times out means a legacy server; a dead process is an error", function()
  local session_mod = require("luaload.mcp.session")
  local dead = fake_pipe(function() return nil end)
  local _, err = session_mod.new({ command = "a" }, {}, dead):initialize()
  t.eq(err.kind, "process")
  local slow = fake_pipe(function(m)
    if m.method == "server/discover" then
      return { err = { kind = "http", message = "idle timeout" } }
    end
    return { response = { jsonrpc = "2.0", id = m.id, result = { protocolVersion = "2025-11-25", capabilities = {},
      serverInfo = { name = "pipe" } } } }
  end)
  local s = session_mod.new({ command = "b" }, {}, slow)
  assert(s:initialize())
  t.eq(s.era, "legacy")
end)
