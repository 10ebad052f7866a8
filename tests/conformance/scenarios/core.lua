-- SPDX-License-Identifier: MIT
-- The conformance suite's client scenarios but auth/* (owner: the core helper), driven through luaload.mcp only:
-- no protocol written by hand. Contract: see tests/conformance/client.lua. Each scenario speaks the revision the
-- suite runs it at (ctx.protocol_version) and "auto" when the suite names none; what each scenario checks is in
-- the suite's src/scenarios/client/<name>.ts.
local mcp = require("luaload.mcp")

local function fail(what, err)
  error(what .. ": " .. tostring(err), 0)
end

local function open(ctx, opts)
  opts = opts or {}
  opts.protocol_version = opts.protocol_version or ctx.protocol_version or "auto"
  opts.client_info = opts.client_info or { name = "luaload-conformance", version = mcp.VERSION }
  local session, err = mcp.connect(ctx.url, opts)
  if not session then
    fail("connect", err)
  end
  return session
end

local function list_tools(session)
  local tools, err = session:tools_list_all()
  if not tools then
    fail("tools/list", err)
  end
  return tools
end

local function find_tool(tools, name)
  for _, tool in ipairs(tools) do
    if tool.name == name then
      return tool
    end
  end
  fail("tools/list", "no tool " .. name)
end

local function call(session, name, args, opts)
  local result, err = session:call_tool(name, args or {}, opts)
  if err then
    fail("tools/call " .. name, err)
  end
  return result
end

local S = {}

-- The legacy handshake (2025-06-18, 2025-11-25): initialize with clientInfo, then a request in the session.
S["initialize"] = function(ctx)
  local session = open(ctx)
  list_tools(session)
  session:close()
end

S["tools_call"] = function(ctx)
  local session = open(ctx)
  find_tool(list_tools(session), "add_numbers")
  local result = call(session, "add_numbers", { a = 5, b = 3 })
  if not (result.content and result.content[1] and tostring(result.content[1].text):find("8", 1, true)) then
    fail("tools/call add_numbers", "unexpected result")
  end
  session:close()
end

-- SEP-1034: the handler accepts with no content; the client fills in the schema's defaults. The server sends its
-- elicitation/create outside the tools/call (on the GET stream), so the session listens first.
S["elicitation-sep1034-client-defaults"] = function(ctx)
  local session = open(ctx, { capabilities = { elicitation = { form = { applyDefaults = true } } },
    on_request = function(message)
      if message.method == "elicitation/create" then
        return { action = "accept", content = {} }
      end
    end })
  local listener = session:listen()
  local ok, err = listener:wait_open(10)
  if not ok then
    fail("listen", err)
  end
  find_tool(list_tools(session), "test_client_elicitation_defaults")
  call(session, "test_client_elicitation_defaults")
  listener:close()
  session:close()
end

-- SEP-1699: the tools/call stream closes after a priming event; the client waits `retry` and resumes with GET +
-- Last-Event-ID, where the response arrives.
S["sse-retry"] = function(ctx)
  local session = open(ctx)
  find_tool(list_tools(session), "test_reconnection")
  call(session, "test_reconnection")
  session:close()
end

-- SEP-2575: _meta and MCP-Protocol-Version on every request; the first answer is an UnsupportedProtocolVersionError
-- the client retries past.
S["request-metadata"] = function(ctx)
  local session = open(ctx, { capabilities = { roots = {}, sampling = {}, elicitation = {} } })
  local _, err = session:server_discover()
  if err then
    fail("server/discover", err)
  end
  list_tools(session)
end

-- SEP-2322: input_required results answered and retried with requestState verbatim and a new id; an unrelated
-- call made while a round is open carries none of it; a result without resultType is complete.
S["sep-2322-client-request-state"] = function(ctx)
  local session
  local unrelated_done = false
  session = open(ctx, { capabilities = { elicitation = {} }, on_request = function(message)
    if message.method == "elicitation/create" then
      if not unrelated_done then
        unrelated_done = true
        call(session, "test_mrtr_unrelated")
      end
      return { action = "accept", content = { confirmed = true } }
    end
  end })
  local tools = list_tools(session)
  for _, name in ipairs({ "test_mrtr_echo_state", "test_mrtr_no_state", "test_mrtr_no_result_type" }) do
    find_tool(tools, name)
    call(session, name)
  end
end

-- SEP-2243: Mcp-Method on every request, Mcp-Name on tools/call, resources/read and prompts/get.
S["http-standard-headers"] = function(ctx)
  local session = open(ctx)
  for _, tool in ipairs(list_tools(session)) do
    call(session, tool.name)
  end
  local resources, err = session:resources_list()
  if err then
    fail("resources/list", err)
  end
  for _, resource in ipairs(resources.resources or {}) do
    local _, rerr = session:resources_read(resource.uri)
    if rerr then
      fail("resources/read", rerr)
    end
  end
  local prompts, perr = session:prompts_list()
  if perr then
    fail("prompts/list", perr)
  end
  for _, prompt in ipairs(prompts.prompts or {}) do
    local _, gerr = session:prompts_get(prompt.name)
    if gerr then
      fail("prompts/get", gerr)
    end
  end
end

-- SEP-2243: x-mcp-header parameters mirrored into Mcp-Param-* headers with the value encoding; the calls and their
-- arguments come from the scenario's context.
S["http-custom-headers"] = function(ctx)
  local session = open(ctx)
  list_tools(session)
  for _, tool_call in ipairs(ctx.context.toolCalls or {}) do
    call(session, tool_call.name, tool_call.arguments)
  end
end

-- SEP-2243: tools whose x-mcp-header annotations are invalid are left out of tools/list; the valid one is called.
S["http-invalid-tool-headers"] = function(ctx)
  local session = open(ctx)
  for _, tool in ipairs(list_tools(session)) do
    call(session, tool.name, { region = "us-west1" })
  end
end

-- SEP-2106: a network $ref in a tool's inputSchema is never fetched (luaload.mcp does not dereference schemas).
S["json-schema-ref-no-deref"] = function(ctx)
  local session = open(ctx)
  find_tool(list_tools(session), "lookup_user")
end

-- SEP-1613/SEP-2106: the focal tool's inputSchema, as the client holds it, is echoed back verbatim.
S["json-schema-2020-12-preservation"] = function(ctx)
  local session = open(ctx)
  local tools = list_tools(session)
  local focal = find_tool(tools, "json_schema_2020_12_tool")
  find_tool(tools, "json_schema_echo")
  call(session, "json_schema_echo", { schema = focal.inputSchema })
  session:close()
end

return S
