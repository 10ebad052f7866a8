-- SPDX-License-Identifier: MIT
-- luaload.mcp passes params.expected_statuses where a non-2xx answer is an outcome it handles (the era probe, the
-- DELETE that closes a session, the well-known URLs of authorization discovery), and nowhere else, so that
-- http_req_failed only counts real failures.
local mcp = require("luaload.mcp")
local version = require("luaload.mcp.version")
local discovery = require("luaload.mcp.auth_discovery")
local json = require("luaload.mcp.json")
local F = dofile(debug.getinfo(t.test, "S").source:match("^@(.*/)") .. "mcp_fake_http.lua")

local urls = 0
local function url()
  urls = urls + 1
  return "http://expected" .. urls .. "/mcp"
end

local function method_of(req)
  return req.json and req.json.method or req.method
end

-- A legacy server: the modern probe gets `probe_status`, DELETE gets `delete_status`.
local function legacy_server(probe_status, delete_status)
  return function(req)
    if req.method == "DELETE" then
      return { status = delete_status, body = "" }
    end
    if F.meta_version(req) then
      return { status = probe_status, headers = { ["Content-Type"] = "text/plain" }, body = "not here" }
    end
    local m, id = method_of(req), req.json and req.json.id
    if m == "initialize" then
      return F.result(id, { protocolVersion = req.json.params.protocolVersion, capabilities = { tools = {} },
        serverInfo = { name = "old", version = "1" } }, { ["Mcp-Session-Id"] = "sid-1" })
    elseif id == nil then
      return { status = 202, body = "" }
    end
    return F.result(id, { tools = {} })
  end
end

local function expects(list, status)
  for _, item in ipairs(list) do
    if item == status or (type(item) == "table" and item.min <= status and status <= item.max) then
      return true
    end
  end
  return false
end

test("the probe expects 200-399 and the legacy answers 400, 404 and 405; later requests expect the default", function()
  for _, status in ipairs({ 400, 404, 405 }) do
    local fake, log = F.new(legacy_server(status, 204))
    local s = mcp.new(url(), { http = fake })
    assert(s:initialize())
    t.eq(s.era, "legacy", "status " .. status)
    t.eq(method_of(log[1]), "server/discover")
    t.eq(log[1].expected_statuses, version.PROBE_EXPECTED_STATUSES)
    t.truthy(expects(log[1].expected_statuses, status), "the probe expects " .. status)
    for _, other in ipairs({ 200, 204, 302 }) do
      t.truthy(expects(log[1].expected_statuses, other), "the probe still expects " .. other)
    end
    t.eq(expects(log[1].expected_statuses, 500), false, "a 5xx on the probe is a failure")
    t.eq(expects(log[1].expected_statuses, 401), false, "a refused authorization is a failure")
    for i = 2, #log do
      t.eq(log[i].expected_statuses, nil, method_of(log[i]) .. " uses the script's rule")
    end
    s:close()
  end
end)

test("the DELETE that closes a session expects 404 and 405, which count as closed, and not 400 or 5xx", function()
  local fake, log = F.new(legacy_server(400, 405))
  local s = mcp.new(url(), { http = fake, protocol_version = "2025-11-25" })
  assert(s:initialize())
  t.eq(s:close(), true)
  local delete = log[#log]
  t.eq(delete.method, "DELETE")
  for _, status in ipairs({ 200, 204, 404, 405 }) do
    t.truthy(expects(delete.expected_statuses, status), "DELETE expects " .. status)
  end
  t.eq(expects(delete.expected_statuses, 400), false)
  t.eq(expects(delete.expected_statuses, 500), false)
end)

test("authorization discovery expects the 404 that moves on to the next well-known URL", function()
  local seen = {}
  local http = { get = function(u, params)
    seen[#seen + 1] = { url = u, expected = params.expected_statuses }
    if u:find("/mcp$") then
      return { status = 404, body = "", headers = {} }
    end
    return { status = 200, headers = {},
      body = json.encode({ resource = "https://h/mcp", authorization_servers = { "https://a" } }) }
  end }
  local prm = assert(discovery.fetch_prm({ http = http }, "https://h/mcp"))
  t.eq(prm.resource, "https://h/mcp")
  t.eq({ seen[1].url, seen[2].url }, { "https://h/.well-known/oauth-protected-resource/mcp",
    "https://h/.well-known/oauth-protected-resource" })
  for _, s in ipairs(seen) do
    t.truthy(expects(s.expected, 404), "404 expected at " .. s.url)
    t.truthy(expects(s.expected, 200) and expects(s.expected, 301), "200-399 expected at " .. s.url)
    t.eq(expects(s.expected, 500), false)
  end
end)
