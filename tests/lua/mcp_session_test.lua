-- SPDX-License-Identifier: MIT
-- luaload.mcp sessions against scripted answers (a fake luaload.http, tests/lua/support/mcp_fake_http.lua): the
-- 2026-07-28 envelope and headers, era probing and fallback, version retries, MRTR, caching, x-mcp-header,
-- streams, resumption, re-issuing, auth hooks and close. No network.
local mcp = require("luaload.mcp")
local json = require("luaload.mcp.json")
local ll = require("luaload")
local F = dofile(debug.getinfo(t.test, "S").source:match("^@(.*/)") .. "mcp_fake_http.lua")

local urls = 0
-- A fresh server URL per test: the era cache is per server for the whole run.
local function url()
  urls = urls + 1
  return "http://fake" .. urls .. "/mcp"
end

local function session(handler, opts)
  local fake, log = F.new(handler)
  opts = opts or {}
  opts.http = fake
  local s = mcp.new(url(), opts)
  return s, log
end

local function method_of(req)
  return req.json and req.json.method
end

local discover_result = { resultType = "complete", supportedVersions = { "2026-07-28" }, capabilities = { tools = {} },
  _meta = { ["io.modelcontextprotocol/serverInfo"] = { name = "fake", version = "1" } }, ttlMs = 0 }

-- A modern server: server/discover, tools/list, tools/call echoing the request.
local function modern_server(extra)
  return function(req)
    local m, id = method_of(req), req.json and req.json.id
    if extra then
      local a = extra(req, m, id)
      if a then
        return a
      end
    end
    if m == "server/discover" then
      return F.result(id, discover_result)
    elseif m == "tools/list" then
      return F.result(id, { resultType = "complete", ttlMs = 0, tools = { { name = "echo", inputSchema = {
        type = "object", properties = { region = { type = "string", ["x-mcp-header"] = "Region" } } } } } })
    elseif m == "tools/call" then
      return F.result(id, { resultType = "complete", content = { { type = "text", text = "ok " .. req.json.params.name } } })
    end
    return F.rpc_error(404, id, -32601, "Method not found")
  end
end

test("a pinned 2026-07-28 session sends the envelope and the metadata headers, and no handshake", function()
  local s, log = session(modern_server(), { protocol_version = "2026-07-28", client_info = { name = "agent" },
    capabilities = { elicitation = {} }, log_level = "info" })
  t.eq(s:initialize(), {})
  t.eq(#log, 0, "opening sends nothing")
  t.eq(s.era, "modern")
  assert(s:tools_list())
  local result, err = s:call_tool("echo", { region = "us-west1", query = "x" })
  t.eq(err, nil)
  t.eq(result.content[1].text, "ok echo")
  local call = log[2]
  t.eq(call.headers["MCP-Protocol-Version"], "2026-07-28")
  t.eq(call.headers["Mcp-Method"], "tools/call")
  t.eq(call.headers["Mcp-Name"], "echo")
  t.eq(call.headers["Mcp-Param-Region"], "us-west1")
  t.eq(call.headers["Mcp-Session-Id"], nil)
  t.eq(call.headers["Accept"], "application/json, text/event-stream")
  local meta = call.json.params._meta
  t.eq(meta["io.modelcontextprotocol/protocolVersion"], "2026-07-28")
  t.eq(meta["io.modelcontextprotocol/clientInfo"].name, "agent")
  t.eq(meta["io.modelcontextprotocol/clientCapabilities"], { elicitation = {} })
  t.eq(meta["io.modelcontextprotocol/logLevel"], "info")
  t.eq(call.tags.mcp_version, "2026-07-28")
  t.eq(call.tags.mcp_transport, "http")
  t.eq(call.tags.name, "mcp tools/call")
  t.truthy(log[1].json.id ~= log[2].json.id, "new ids")
end)

test("auto: the probe finds a modern server, keeps its discover result, and is not repeated", function()
  local fake, log = F.new(modern_server())
  local u = url()
  local s = mcp.new(u, { http = fake })
  local first = assert(s:initialize())
  t.eq(first.supportedVersions, { "2026-07-28" })
  t.eq(s.protocol_version, "2026-07-28")
  t.eq(s.server_info, { name = "fake", version = "1" })
  t.eq(s.server_capabilities, { tools = {} })
  t.eq(method_of(log[1]), "server/discover")
  local again = mcp.new(u, { http = fake })
  assert(again:initialize())
  t.eq(#log, 1, "the era is cached: the second session sends nothing")
  t.eq(again.era, "modern")
end)

local function legacy_server(log_sessions)
  return function(req)
    if F.meta_version(req) then
      return { status = 400, headers = { ["Content-Type"] = "text/plain" }, body = "Bad Request: missing session" }
    end
    local m, id = method_of(req), req.json and req.json.id
    if m == "initialize" then
      return F.result(id, { protocolVersion = req.json.params.protocolVersion, capabilities = { tools = {} },
        serverInfo = { name = "old", version = "1" } }, { ["Mcp-Session-Id"] = "sid-1" })
    elseif req.json and req.json.id == nil then
      return { status = 202, body = "" }
    elseif m == "tools/list" then
      return F.result(id, { tools = {} })
    end
    return F.rpc_error(200, id, -32601, "nope")
  end
end

test("auto: a legacy server (400 without a modern error) is probed once, then initialized", function()
  local fake, log = F.new(legacy_server())
  local u = url()
  local s = mcp.new(u, { http = fake })
  local result = assert(s:initialize())
  t.eq(result.serverInfo.name, "old")
  t.eq(s.era, "legacy")
  t.eq(s.protocol_version, "2025-11-25")
  t.eq(s.id, "sid-1")
  t.eq({ method_of(log[1]), method_of(log[2]), method_of(log[3]) },
    { "server/discover", "initialize", "notifications/initialized" })
  t.eq(log[3].headers["Mcp-Session-Id"], "sid-1")
  t.eq(log[3].headers["Mcp-Method"], nil, "no 2026 headers in the legacy era")
  assert(s:tools_list())
  t.eq(log[4].json.params, nil, "no _meta envelope in the legacy era")
  local second = mcp.new(u, { http = fake })
  assert(second:initialize())
  t.eq(method_of(log[5]), "initialize", "the fallback is cached: no second probe")
end)

test("auto: 404 and 405 without a JSON-RPC body fall back, and so does 404 with -32601", function()
  for _, answer in ipairs({ { status = 404, body = "not found" }, { status = 405, body = "" },
      F.rpc_error(404, 1, -32601, "Method not found: server/discover") }) do
    local s = session(function(req)
      if method_of(req) == "server/discover" then
        return answer
      end
      return legacy_server()(req)
    end)
    assert(s:initialize())
    t.eq(s.era, "legacy", "after " .. answer.status)
  end
end)

test("auto: -32022 picks the mutual version, modern or legacy, instead of falling back blindly", function()
  local s = session(function(req)
    if method_of(req) == "server/discover" then
      return F.rpc_error(400, req.json.id, -32022, "Unsupported protocol version",
        { supported = { "2025-06-18" }, requested = "2026-07-28" })
    end
    return legacy_server()(req)
  end)
  assert(s:initialize())
  t.eq(s.era, "legacy")
  t.eq(s.last_response.status, 202)
  t.eq(s.protocol_version, "2025-06-18")
  local m = session(function(req)
    if method_of(req) == "server/discover" then
      return F.rpc_error(400, req.json.id, -32022, "Unsupported protocol version",
        { supported = { "2026-07-28" }, requested = "2026-07-28" })
    end
    return modern_server()(req)
  end)
  assert(m:initialize())
  t.eq(m.era, "modern")
  local none = session(function(req)
    return F.rpc_error(400, req.json.id, -32022, "Unsupported", { supported = { "2030-01-01" } })
  end)
  local result, err = none:initialize()
  t.eq(result, nil)
  t.eq(err.kind, "version")
end)

test("auto: a 5xx or a network failure on the probe is an error, not a fallback", function()
  local s, log = session(function() return { status = 503, body = "down" } end)
  local result, err = s:initialize()
  t.eq(result, nil)
  t.eq(err.kind, "http")
  t.eq(err.status, 503)
  t.eq(#log, 1)
  local n = session(function() return { status = 0, error = "dial tcp: connection refused", error_code = 1212 } end)
  local _, nerr = n:initialize()
  t.eq(nerr.kind, "http")
  t.eq(nerr.error_code, 1212)
end)

test("a pinned modern session retries -32022 at a mutual version with a new id, once", function()
  local seen = {}
  local s = session(function(req)
    seen[#seen + 1] = { F.meta_version(req), req.headers["MCP-Protocol-Version"], req.json.id }
    if #seen == 1 then
      return F.rpc_error(400, req.json.id, -32022, "Unsupported", { supported = { "2026-07-28" } })
    end
    return modern_server()(req)
  end, { protocol_version = "2026-07-28" })
  assert(s:initialize())
  assert(s:tools_list())
  t.eq(#seen, 2)
  t.eq(seen[2][1], "2026-07-28")
  t.eq(seen[2][2], "2026-07-28")
  t.truthy(seen[1][3] ~= seen[2][3], "a new JSON-RPC id")
end)

test("in the modern era 404 + -32601 is a jsonrpc error, not a lost session", function()
  local s = session(modern_server(), { protocol_version = "2026-07-28" })
  assert(s:initialize())
  local result, err = s:request("nope/nothing")
  t.eq(result, nil)
  t.eq(err.kind, "jsonrpc")
  t.eq(err.code, -32601)
  t.eq(err.status, 404)
end)

test("input_required: the inputRequests are answered and the request retried with its state, new id each round",
  function()
  local rounds = {}
  local asked = {}
  local s = session(modern_server(function(req, m, id)
    if m ~= "tools/call" then
      return nil
    end
    rounds[#rounds + 1] = req.json
    local p = req.json.params
    if #rounds == 1 then
      return F.result(id, { resultType = "input_required", requestState = '{"n":1, "s":"\\u00e9"}', inputRequests = {
        confirm = { method = "elicitation/create", params = { message = "ok?", requestedSchema = { type = "object" } } },
        roots = { method = "roots/list" },
        llm = { method = "sampling/createMessage", params = { messages = {} } } } })
    elseif #rounds == 2 then
      t.eq(p.requestState, '{"n":1, "s":"\\u00e9"}', "requestState echoed verbatim")
      return F.result(id, { resultType = "input_required", inputRequests = { again = { method = "roots/list" } } })
    end
    t.eq(p.requestState, nil, "no state when the server sent none")
    return F.result(id, { resultType = "complete", content = { { type = "text", text = "done" } } })
  end), { protocol_version = "2026-07-28", roots = { { uri = "file:///w" } }, on_request = function(m)
    asked[#asked + 1] = m.method .. ":" .. m.id
    if m.method == "elicitation/create" then
      return { action = "accept", content = { confirmed = true } }
    end
  end })
  assert(s:initialize())
  local result, err = s:call_tool("echo", { a = 1 })
  t.eq(err, nil)
  t.eq(result.content[1].text, "done")
  t.eq(#rounds, 3)
  local responses = rounds[2].params.inputResponses
  t.eq(responses.confirm, { action = "accept", content = { confirmed = true } })
  t.eq(responses.roots, { roots = { { uri = "file:///w" } } })
  t.eq(responses.llm, nil, "sampling has no default: left out")
  t.eq(rounds[2].params.arguments, { a = 1 }, "the original params")
  t.eq(rounds[3].params.inputResponses, { again = { roots = { { uri = "file:///w" } } } })
  t.truthy(rounds[1].id ~= rounds[2].id and rounds[2].id ~= rounds[3].id, "a new id each round")
  table.sort(asked)
  t.eq(asked, { "elicitation/create:confirm", "roots/list:again", "roots/list:roots", "sampling/createMessage:llm" })
end)

test("input_required rounds are bounded", function()
  local calls = 0
  local s = session(modern_server(function(_, m, id)
    if m == "tools/call" then
      calls = calls + 1
      return F.result(id, { resultType = "input_required", requestState = "again" })
    end
  end), { protocol_version = "2026-07-28", max_input_rounds = 3 })
  assert(s:initialize())
  local result, err = s:call_tool("echo", {})
  t.eq(result, nil)
  t.eq(err.kind, "protocol")
  t.eq(calls, 4)
end)

test("a result without resultType is complete; an unknown resultType is a protocol error", function()
  local kind
  local s = session(modern_server(function(_, m, id)
    if m == "tools/call" then
      return F.result(id, { resultType = kind, content = {} })
    end
  end), { protocol_version = "2026-07-28" })
  assert(s:initialize())
  kind = nil
  local _, err = s:call_tool("echo", {})
  t.eq(err, nil)
  kind = "task"
  local result, err2 = s:call_tool("echo", {})
  t.eq(result, nil)
  t.eq(err2.kind, "protocol")
end)

test("ttlMs results are served from the cache until stale, fresh or invalidated by list_changed", function()
  local lists = 0
  local ttl = 60000
  local s = session(modern_server(function(req, m, id)
    if m == "tools/list" then
      lists = lists + 1
      return F.result(id, { resultType = "complete", ttlMs = ttl, cacheScope = "public", tools = {} })
    elseif m == "tools/call" then
      return F.sse({ F.event({ jsonrpc = "2.0", method = "notifications/tools/list_changed" }),
        F.event({ jsonrpc = "2.0", id = id, result = { resultType = "complete", content = {} } }) })
    end
  end), { protocol_version = "2026-07-28" })
  assert(s:initialize())
  assert(s:tools_list())
  local cached, err, notes = s:tools_list()
  t.eq(err, nil)
  t.eq(#notes, 0)
  t.eq(cached.ttlMs, 60000)
  t.eq(lists, 1, "second list from the cache")
  assert(s:tools_list({ fresh = true }))
  t.eq(lists, 2, "fresh bypasses")
  assert(s:tools_list(nil, { fresh = false }))
  t.eq(lists, 2)
  assert(s:tools_list("page2"))
  t.eq(lists, 3, "another cursor is another key")
  assert(s:call_tool("echo", {}))
  assert(s:tools_list())
  t.eq(lists, 4, "list_changed invalidated")
  ttl = 0
  assert(s:tools_list({ fresh = true }))
  assert(s:tools_list())
  t.eq(lists, 6, "ttlMs 0 is never cached")
end)

test("private results are cached per authorization context; opts.cache = false turns caching off", function()
  local reads = 0
  local token = "a"
  local auth = { prepare = function(_, req) req.headers.Authorization = "Bearer " .. token return true end,
    on_response = function() return nil, "no" end }
  local s = session(modern_server(function(_, m, id)
    if m == "resources/read" then
      reads = reads + 1
      return F.result(id, { resultType = "complete", ttlMs = 60000, cacheScope = "private", contents = {} })
    end
  end), { protocol_version = "2026-07-28", auth = auth })
  assert(s:initialize())
  assert(s:resources_read("luaload://x"))
  assert(s:resources_read("luaload://x"))
  t.eq(reads, 1)
  token = "b"
  assert(s:resources_read("luaload://x"))
  t.eq(reads, 2, "another token, another cache")
  local off = session(modern_server(function(_, m, id)
    if m == "resources/read" then
      reads = reads + 1
      return F.result(id, { resultType = "complete", ttlMs = 60000, cacheScope = "public", contents = {} })
    end
  end), { protocol_version = "2026-07-28", cache = false })
  assert(off:initialize())
  assert(off:resources_read("luaload://x"))
  assert(off:resources_read("luaload://x"))
  t.eq(reads, 4)
end)

test("results of an MRTR exchange are not cached", function()
  local reads = 0
  local s = session(modern_server(function(req, m, id)
    if m == "resources/read" then
      reads = reads + 1
      if req.json.params.requestState == nil then
        return F.result(id, { resultType = "input_required", requestState = "s" })
      end
      return F.result(id, { resultType = "complete", ttlMs = 60000, cacheScope = "public", contents = {} })
    end
  end), { protocol_version = "2026-07-28" })
  assert(s:initialize())
  assert(s:resources_read("luaload://x"))
  assert(s:resources_read("luaload://x"))
  t.eq(reads, 4)
end)

test("tools with invalid x-mcp-header annotations are left out of tools/list and refused by call_tool", function()
  local calls = 0
  local s = session(modern_server(function(_, m, id)
    if m == "tools/list" then
      return F.result(id, { resultType = "complete", tools = {
        { name = "good", inputSchema = { type = "object", properties = { r = { type = "string", ["x-mcp-header"] = "R" } } } },
        { name = "bad", inputSchema = { type = "object", properties = { r = { type = "object", ["x-mcp-header"] = "R" } } } },
      } })
    elseif m == "tools/call" then
      calls = calls + 1
    end
  end), { protocol_version = "2026-07-28" })
  assert(s:initialize())
  local result = assert(s:tools_list())
  t.eq(#result.tools, 1)
  t.eq(result.tools[1].name, "good")
  t.truthy(s.rejected_tools.bad, "the reason is kept")
  local r, err = s:call_tool("bad", { r = {} })
  t.eq(r, nil)
  t.eq(err.kind, "protocol")
  t.eq(calls, 0, "nothing sent")
end)

test("a HeaderMismatch on tools/call re-lists the tools and retries once with the new headers", function()
  local log_calls = {}
  local listed = 0
  local s = session(modern_server(function(req, m, id)
    if m == "tools/list" then
      listed = listed + 1
      return F.result(id, { resultType = "complete", tools = { { name = "echo", inputSchema = { type = "object",
        properties = { region = { type = "string", ["x-mcp-header"] = "Region" } } } } } })
    elseif m == "tools/call" then
      log_calls[#log_calls + 1] = req.headers["Mcp-Param-Region"] or "none"
      if req.headers["Mcp-Param-Region"] == nil then
        return F.rpc_error(400, id, -32020, "Header mismatch: Mcp-Param-Region missing")
      end
    end
  end), { protocol_version = "2026-07-28" })
  assert(s:initialize())
  local _, err = s:call_tool("echo", { region = "eu" })
  t.eq(err, nil)
  t.eq(log_calls, { "none", "eu" })
  t.eq(listed, 1)
end)

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
