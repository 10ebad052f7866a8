-- SPDX-License-Identifier: MIT
-- luaload.mcp.wire: the 2026-07-28 envelope, header value encoding, Mcp-Name, x-mcp-header validation and
-- extraction. Pure functions.
local wire = require("luaload.mcp.wire")
local json = require("luaload.mcp.json")

test("envelope merges the protocol fields into _meta and keeps the caller's params and _meta", function()
  local params = { name = "echo", _meta = { progressToken = "p1" } }
  local out = wire.envelope(params, { version = "2026-07-28", client_info = { name = "luaload", version = "1" },
    capabilities = { elicitation = {} }, log_level = "debug" })
  t.eq(out.name, "echo")
  t.eq(out._meta, { progressToken = "p1", ["io.modelcontextprotocol/protocolVersion"] = "2026-07-28",
    ["io.modelcontextprotocol/clientInfo"] = { name = "luaload", version = "1" },
    ["io.modelcontextprotocol/clientCapabilities"] = { elicitation = {} },
    ["io.modelcontextprotocol/logLevel"] = "debug" })
  t.eq(params._meta, { progressToken = "p1" }, "the caller's params are untouched")
end)

test("envelope without params still carries capabilities (an empty object) and no logLevel", function()
  local out = wire.envelope(nil, { version = "2026-07-28" })
  t.eq(json.encode(out._meta["io.modelcontextprotocol/clientCapabilities"]), "{}")
  t.eq(out._meta["io.modelcontextprotocol/logLevel"], nil)
end)

test("header values follow the spec's encoding table", function()
  t.eq(wire.header_value("us-west1"), "us-west1")
  t.eq(wire.header_value("us west 1"), "us west 1")
  t.eq(wire.header_value("Hello, 世界"), "=?base64?SGVsbG8sIOS4lueVjA==?=")
  t.eq(wire.header_value(" padded "), "=?base64?IHBhZGRlZCA=?=")
  t.eq(wire.header_value("line1\nline2"), "=?base64?bGluZTEKbGluZTI=?=")
  t.eq(wire.header_value("=?base64?literal?="), "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=")
  t.eq(wire.header_value("\tindented"), "=?base64?CWluZGVudGVk?=")
  t.eq(wire.header_value(""), "=?base64??=")
end)

test("Mcp-Name comes from params.name or params.uri of the three methods that have one", function()
  t.eq(wire.mcp_name("tools/call", { name = "my-hyphenated-tool" }), "my-hyphenated-tool")
  t.eq(wire.mcp_name("prompts/get", { name = "p" }), "p")
  t.eq(wire.mcp_name("resources/read", { uri = "file:///a%20b.txt" }), "file:///a%20b.txt")
  t.eq(wire.mcp_name("resources/read", { uri = "file:///été" }), "=?base64?ZmlsZTovLy/DqXTDqQ==?=")
  t.eq(wire.mcp_name("tools/list", { name = "x" }), nil)
end)

local function tool(properties)
  return { name = "t", inputSchema = { type = "object", properties = properties } }
end

test("x-mcp-header declarations are found along properties, nested objects included", function()
  local decls = wire.tool_headers(tool({
    region = { type = "string", ["x-mcp-header"] = "Region" },
    query = { type = "string" },
    opts = { type = "object", properties = { tenant = { type = "integer", ["x-mcp-header"] = "Tenant" } } },
  }))
  table.sort(decls, function(a, b) return a.name < b.name end)
  t.eq(decls, { { path = { "region" }, name = "Region", type = "string" },
    { path = { "opts", "tenant" }, name = "Tenant", type = "integer" } })
  t.eq(wire.tool_headers({ name = "plain" }), {})
end)

test("invalid x-mcp-header annotations reject the tool, one constraint each", function()
  local cases = {
    empty = { v = { type = "string", ["x-mcp-header"] = "" } },
    object = { v = { type = "object", ["x-mcp-header"] = "Data" } },
    array = { v = { type = "array", items = { type = "string" }, ["x-mcp-header"] = "Items" } },
    null = { v = { type = "null", ["x-mcp-header"] = "Nil" } },
    number = { v = { type = "number", ["x-mcp-header"] = "Num" } },
    same = { a = { type = "string", ["x-mcp-header"] = "Region" }, b = { type = "string", ["x-mcp-header"] = "Region" } },
    case = { a = { type = "string", ["x-mcp-header"] = "MyField" }, b = { type = "string", ["x-mcp-header"] = "myfield" } },
    space = { v = { type = "string", ["x-mcp-header"] = "My Region" } },
    colon = { v = { type = "string", ["x-mcp-header"] = "Region:Primary" } },
    non_ascii = { v = { type = "string", ["x-mcp-header"] = "Région" } },
    control = { v = { type = "string", ["x-mcp-header"] = "Region\t1" } },
    under_items = { v = { type = "array", items = { type = "string", ["x-mcp-header"] = "Item" } } },
  }
  for name, properties in pairs(cases) do
    local decls, reason = wire.tool_headers(tool(properties))
    t.eq(decls, nil, name)
    t.truthy(reason, name .. " has a reason")
  end
  local _, reason = wire.tool_headers({ name = "t", inputSchema = { type = "object", anyOf = {
    { properties = { x = { type = "string", ["x-mcp-header"] = "X" } } } } } })
  t.truthy(reason and reason:find("reachable"), "composition keywords are not reachable: " .. tostring(reason))
end)

test("param headers mirror present primitive values and omit absent or null ones", function()
  local decls = {
    { path = { "region" }, name = "Region", type = "string" },
    { path = { "priority" }, name = "Priority", type = "integer" },
    { path = { "verbose" }, name = "Verbose", type = "boolean" },
    { path = { "debug" }, name = "Debug", type = "boolean" },
    { path = { "missing" }, name = "Missing", type = "string" },
    { path = { "o", "tenant" }, name = "Tenant", type = "string" },
    { path = { "big" }, name = "Big", type = "integer" },
  }
  local headers = wire.param_headers(decls, { region = "us-west1", priority = 42, verbose = json.null, debug = false,
    o = { tenant = "Ümlaut" }, big = 2 ^ 60 })
  t.eq(headers, { ["Mcp-Param-Region"] = "us-west1", ["Mcp-Param-Priority"] = "42", ["Mcp-Param-Debug"] = "false",
    ["Mcp-Param-Tenant"] = "=?base64?w5xtbGF1dA==?=" })
end)

test("kind tells requests, notifications and responses apart", function()
  t.eq(wire.kind({ jsonrpc = "2.0", id = 1, method = "ping" }), "request")
  t.eq(wire.kind({ jsonrpc = "2.0", method = "notifications/progress" }), "notification")
  t.eq(wire.kind({ jsonrpc = "2.0", id = 1, result = {} }), "response")
  t.eq(wire.kind({ jsonrpc = "2.0", error = { code = -1, message = "x" } }), "response")
  t.eq(wire.kind("nope"), nil)
end)
