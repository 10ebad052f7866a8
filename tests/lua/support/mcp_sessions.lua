-- SPDX-License-Identifier: MIT
-- Shared by the luaload.mcp session tests: fresh server URLs, sessions over the fake luaload.http
-- (mcp_fake_http.lua), and scripted modern and legacy servers. Loaded with dofile(...)(prefix); the prefix keeps
-- each test file's server URLs apart, since the era cache is per server for the whole run.
local mcp = require("luaload.mcp")

return function(prefix, F)
  local S = {}
  local urls = 0
  function S.url()
    urls = urls + 1
    return "http://" .. prefix .. urls .. "/mcp"
  end

  function S.session(handler, opts)
    local fake, log = F.new(handler)
    opts = opts or {}
    opts.http = fake
    local s = mcp.new(S.url(), opts)
    return s, log
  end

  function S.method_of(req)
    return req.json and req.json.method
  end
  local method_of = S.method_of

  S.discover_result = { resultType = "complete", supportedVersions = { "2026-07-28" }, capabilities = { tools = {} },
    _meta = { ["io.modelcontextprotocol/serverInfo"] = { name = "fake", version = "1" } }, ttlMs = 0 }

  -- A modern server: server/discover, tools/list, tools/call echoing the request.
  function S.modern_server(extra)
    return function(req)
      local m, id = method_of(req), req.json and req.json.id
      if extra then
        local a = extra(req, m, id)
        if a then
          return a
        end
      end
      if m == "server/discover" then
        return F.result(id, S.discover_result)
      elseif m == "tools/list" then
        return F.result(id, { resultType = "complete", ttlMs = 0, tools = { { name = "echo", inputSchema = {
          type = "object", properties = { region = { type = "string", ["x-mcp-header"] = "Region" } } } } } })
      elseif m == "tools/call" then
        return F.result(id, { resultType = "complete", content = { { type = "text", text = "ok " .. req.json.params.name } } })
      end
      return F.rpc_error(404, id, -32601, "Method not found")
    end
  end

  -- A legacy server: 400 to the modern probe, then the initialize handshake with a session id.
  function S.legacy_server()
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

  return S
end
