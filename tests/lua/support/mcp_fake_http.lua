-- SPDX-License-Identifier: MIT
-- A luaload.http look-alike for the luaload.mcp unit tests (tests/lua/mcp_*_test.lua): every request and stream
-- goes to `handler(req)`, which returns the scripted answer; everything is logged in order. No network.
--   req    = {method, url, body, headers, tags, expected_statuses, json = the decoded body (nil when none)}
--   answer = {status = 200, headers = {...}, body = "..."} or, for streams, chunks = {"...", fn, ...}: each read()
--            returns the next chunk (a function is called at that moment, so a test can observe what the client
--            did before reading on); error = "...", error_code = n make the stream end with a failure.
local json = require("luaload.mcp.json")

local F = {}

-- Headers with the case-insensitive lookup of luaload.Response headers.
local function headers_table(headers)
  return setmetatable(headers or {}, { __index = function(t, key)
    for k, v in pairs(t) do
      if type(k) == "string" and k:lower() == tostring(key):lower() then
        return v
      end
    end
    return nil
  end })
end
F.headers_table = headers_table

function F.new(handler)
  local log = {}
  local fake = {}

  local function call(method, url, body, params)
    local req = { method = method, url = url, body = body, headers = headers_table(params.headers or {}),
      tags = params.tags, expected_statuses = params.expected_statuses, json = body and json.decode(body) or nil }
    log[#log + 1] = req
    local a = handler(req) or { status = 500, body = "no scripted answer" }
    return req, a
  end

  function fake.request(method, url, body, params)
    local _, a = call(method, url, body, params)
    local body_text = a.body
    if body_text == nil and a.chunks then
      local parts = {}
      for _, c in ipairs(a.chunks) do
        parts[#parts + 1] = type(c) == "function" and c() or c
      end
      body_text = table.concat(parts)
    end
    return { status = a.status or 200, headers = headers_table(a.headers), body = body_text or "",
      error = a.error, error_code = a.error_code }
  end

  function fake.stream(method, url, body, params)
    local _, a = call(method, url, body, params)
    local chunks = a.chunks or (a.body and a.body ~= "" and { a.body }) or {}
    local reader = { status = a.status or 200, headers = headers_table(a.headers), next = 1 }
    if reader.status == 0 then
      reader.error, reader.error_code = a.error, a.error_code
    end
    function reader:read()
      if self.closed then
        return nil
      end
      local c = chunks[self.next]
      if c == nil then
        self.error, self.error_code = a.error, a.error_code
        return nil
      end
      self.next = self.next + 1
      if type(c) == "function" then
        c = c()
      end
      return c
    end
    function reader:close()
      self.closed = true
    end
    return reader
  end

  return fake, log
end

-- Answers ---------------------------------------------------------------------------------------------------------

function F.json(status, value, headers)
  local h = { ["Content-Type"] = "application/json" }
  for k, v in pairs(headers or {}) do
    h[k] = v
  end
  return { status = status, headers = h, body = value and json.encode(value) or "" }
end

function F.result(id, result, headers)
  return F.json(200, { jsonrpc = "2.0", id = id, result = result }, headers)
end

function F.rpc_error(status, id, code, message, data)
  return F.json(status, { jsonrpc = "2.0", id = id, error = { code = code, message = message, data = data } })
end

-- One SSE event block for a JSON-RPC message (or raw fields when `message` is a string).
function F.event(message, fields)
  local lines = {}
  for _, f in ipairs(fields or {}) do
    lines[#lines + 1] = f
  end
  if message ~= nil then
    lines[#lines + 1] = "data: " .. (type(message) == "string" and message or json.encode(message))
  end
  return table.concat(lines, "\n") .. "\n\n"
end

function F.sse(chunks, headers)
  local h = { ["Content-Type"] = "text/event-stream" }
  for k, v in pairs(headers or {}) do
    h[k] = v
  end
  return { status = 200, headers = h, chunks = chunks }
end

-- The 2026-07-28 protocol version a request declared in its _meta (nil for legacy requests).
function F.meta_version(req)
  local params = req.json and req.json.params
  local meta = type(params) == "table" and params._meta
  return type(meta) == "table" and meta["io.modelcontextprotocol/protocolVersion"] or nil
end

return F
