-- SPDX-License-Identifier: MIT
-- luaload.mcp sessions against scripted answers (a fake luaload.http, tests/lua/support/mcp_fake_http.lua): the
-- 2026-07-28 envelope and headers, era probing and fallback, version retries, MRTR, caching and x-mcp-header. No
-- network. Streams, resumption, auth hooks, close and listen: mcp_session_streams_test.lua.
local mcp = require("luaload.mcp")
local json = require("luaload.mcp.json")
local ll = require("luaload")
local dir = debug.getinfo(t.test, "S").source:match("^@(.*/)")  -- tests/lua/support/
local F = dofile(dir .. "mcp_fake_http.lua")
local S = dofile(dir .. "mcp_sessions.lua")("fake", F)
local url, session, method_of = S.url, S.session, S.method_of
local discover_result, modern_server, legacy_server = S.discover_result, S.modern_server, S.legacy_server


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
