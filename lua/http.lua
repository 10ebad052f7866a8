-- SPDX-License-Identifier: MIT
-- The `luaload.http` module. Parameters are normalised here; core.http_request (bindings/http.cpp) sends the
-- request, yields the VU and returns a luaload.Response.
local core, json = ...

local type, pairs, ipairs, tostring, tonumber, error, pcall, select = type, pairs, ipairs, tostring, tonumber, error,
  pcall, select
local sort, concat, floor = table.sort, table.concat, math.floor
local lower, format, gsub, match = string.lower, string.format, string.gsub, string.match
local send, set_expected = core.http_request, core.http_set_expected_statuses

local M = {}

local units = { ms = 0.001, s = 1, m = 60, h = 3600 }

-- 5, "5s", "500ms", "1m30s" -> seconds.
-- Raises at level 4: parse_timeout <- normalise <- request/stream <- the script (http.get tail-calls request).
-- 0 means no timeout. Beyond a year (or NaN, inf) the engine's nanosecond deadline would overflow.
local kMaxTimeoutSeconds = 365 * 24 * 3600

local function checked_timeout(seconds, value, api)
  if seconds ~= seconds or seconds < 0 or seconds > kMaxTimeoutSeconds then
    error(format("%s: invalid timeout %s (0 for none, up to a year: seconds or a duration like \"5s\")", api,
      type(value) == "string" and format("%q", value) or tostring(value)), 5)
  end
  return seconds
end

local function parse_timeout(value, api)
  if type(value) == "number" then
    return checked_timeout(value, value, api)
  end
  if type(value) == "string" then
    local total, rest = 0, value
    while rest ~= "" do
      local number, unit, tail = match(rest, "^(%d+%.?%d*)(%a+)(.*)$")
      if not number or not units[unit] then
        error(format("%s: invalid timeout %q (use seconds or a duration like \"5s\", \"500ms\")", api, value), 4)
      end
      total, rest = total + tonumber(number) * units[unit], tail
    end
    return checked_timeout(total, value, api)
  end
  error(api .. ": timeout must be a number of seconds or a duration string", 4)
end

local function escape(text)
  return (gsub(tostring(text), "[^%w%-%._~]", function(c) return format("%%%02X", c:byte()) end))
end

-- Form fields in key order, so the body is the same on every run; array values repeat the key.
function M.encode_form(form)
  local keys = {}
  for key in pairs(form) do
    keys[#keys + 1] = tostring(key)
  end
  sort(keys)
  local parts = {}
  for _, key in ipairs(keys) do
    local value = form[key]
    if value == nil then
      value = form[tonumber(key)]
    end
    if type(value) == "table" then
      for _, item in ipairs(value) do
        parts[#parts + 1] = escape(key) .. "=" .. escape(item)
      end
    else
      parts[#parts + 1] = escape(key) .. "=" .. escape(value)
    end
  end
  return concat(parts, "&")
end

-- A copy of `headers` with `name` set unless the script already set it (in any letter case).
local function with_default_header(headers, name, value)
  local copy = {}
  local lname = lower(name)
  local present = false
  if headers ~= nil then
    for key, v in pairs(headers) do
      copy[key] = v
      if lower(key) == lname then
        present = true
      end
    end
  end
  if not present then
    copy[name] = value
  end
  return copy
end

-- Expected statuses (k6's expectedStatuses): a list of status codes and { min =, max = } ranges, judged by
-- bindings/expected_statuses.hpp. Checked here so that a mistake is reported on the script's line.
local function is_status(value)
  return type(value) == "number" and value == floor(value) and value >= 100 and value <= 999
end

-- nil when `item` is a status code or a range, else what is wrong with it.
local function item_problem(item)
  if type(item) == "number" then
    return not is_status(item) and tostring(item) .. " is not a status code (an integer from 100 to 999)" or nil
  end
  if type(item) ~= "table" then
    return "must be a status code or a { min =, max = } range, not a " .. type(item)
  end
  for key in pairs(item) do
    if key ~= "min" and key ~= "max" then
      return "unknown key " .. tostring(key) .. " in a range (a range is { min =, max = })"
    end
  end
  if not is_status(item.min) or not is_status(item.max) then
    return "a range needs min and max, status codes (integers from 100 to 999)"
  end
  if item.min > item.max then
    return format("the range's min %d is above its max %d", item.min, item.max)
  end
  return nil
end

-- nil when `list` is a valid list, else the message: `what` names the list, `item` (a format with %d) an item.
local function statuses_problem(list, what, item)
  if type(list) ~= "table" then
    return what .. " must be a list of status codes and { min =, max = } ranges, not a " .. type(list)
  end
  local n = #list
  if n == 0 then
    if list.min ~= nil or list.max ~= nil then
      return what .. " is a single range: put it in a list, { { min = ..., max = ... } }"
    end
    return what .. " is empty: every response would count as failed"
  end
  for key in pairs(list) do
    if type(key) ~= "number" or key < 1 or key > n or key ~= floor(key) then
      return what .. " must be a list, but has the key " .. tostring(key)
    end
  end
  for i = 1, n do
    local problem = item_problem(list[i])
    if problem then
      return format(item, i) .. ": " .. problem
    end
  end
  return nil
end

-- http.expected_statuses(200, 404, { min = 500, max = 599 }) -> the list of its arguments, checked (k6's
-- http.expectedStatuses), for params.expected_statuses or http.set_expected_statuses.
function M.expected_statuses(...)
  local list = { ... }
  for i = 1, select("#", ...) do
    if list[i] == nil then
      error(format("http.expected_statuses: argument %d is nil", i), 2)
    end
  end
  local problem = statuses_problem(list, "http.expected_statuses: the list", "http.expected_statuses: argument %d")
  if problem then
    error(problem, 2)
  end
  return list
end

-- The rule of every later request of this VU (and its tasks) that gives no params.expected_statuses, for the
-- rest of the VU's life (k6's http.setResponseCallback(http.expectedStatuses(...))); nil restores 200-399.
function M.set_expected_statuses(list)
  if list ~= nil then
    local problem = statuses_problem(list, "http.set_expected_statuses: the list",
      "http.set_expected_statuses: item %d")
    if problem then
      error(problem, 2)
    end
  end
  set_expected(list)
end

-- params -> body, headers, timeout, redirects, tags, expected_statuses (as core.http_request takes them).
-- `timeout_key` names the param that is the timeout: "timeout" for requests, "idle_timeout" for streams.
local function normalise(api, body, params, timeout_key)
  if type(params) ~= "table" then
    error(api .. ": params must be a table", 3)
  end
  local headers = params.headers
  if headers ~= nil and type(headers) ~= "table" then
    error(api .. ": params.headers must be a table", 3)
  end
  if params.json ~= nil then
    body = json.encode(params.json)
    headers = with_default_header(headers, "Content-Type", "application/json")
  elseif params.form ~= nil then
    if type(params.form) ~= "table" then
      error(api .. ": params.form must be a table", 3)
    end
    body = M.encode_form(params.form)
    headers = with_default_header(headers, "Content-Type", "application/x-www-form-urlencoded")
  end
  local timeout = params[timeout_key]
  if timeout ~= nil then
    timeout = parse_timeout(timeout, api)
  end
  local tags = params.tags
  if tags ~= nil and type(tags) ~= "table" then
    error(api .. ": params.tags must be a table", 3)
  end
  local expected = params.expected_statuses
  if expected ~= nil then
    local problem = statuses_problem(expected, api .. ": params.expected_statuses",
      api .. ": params.expected_statuses[%d]")
    if problem then
      error(problem, 3)
    end
  end
  return body, headers, timeout, params.redirects, tags, expected
end

local function request(api, method, url, body, params)
  if params == nil then
    return send(api, method, url, body)
  end
  return send(api, method, url, normalise(api, body, params, "timeout"))
end

function M.request(method, url, body, params)
  if type(method) ~= "string" then
    error("http.request: method must be a string", 2)
  end
  return request("http.request", method:upper(), url, body, params)
end

function M.get(url, params) return request("http.get", "GET", url, nil, params) end
function M.head(url, params) return request("http.head", "HEAD", url, nil, params) end
function M.post(url, body, params) return request("http.post", "POST", url, body, params) end
function M.put(url, body, params) return request("http.put", "PUT", url, body, params) end
function M.patch(url, body, params) return request("http.patch", "PATCH", url, body, params) end
function M.del(url, body, params) return request("http.del", "DELETE", url, body, params) end
function M.options(url, body, params) return request("http.options", "OPTIONS", url, body, params) end

-- Streams (bindings/stream.cpp). The core.stream_* calls return false after they had to wait, so each is called
-- until it has an answer.
local open_stream, stream_head, stream_read = core.http_stream, core.stream_head, core.stream_read
local stream_event, stream_close = core.stream_event, core.stream_close

local function until_ready(fn, s)
  local a, b, c, d = fn(s)
  while a == false do
    a, b, c, d = fn(s)
  end
  return a, b, c, d
end

local reader_methods = {}
local reader_mt = { __index = reader_methods }

-- The next body bytes (everything received since the previous read), or nil at the end of the body; after a
-- failure reader.error and reader.error_code say why.
function reader_methods:read()
  local chunk, err, code = until_ready(stream_read, self._stream)
  if chunk == nil and err ~= nil then
    self.error, self.error_code = err, code
  end
  return chunk
end

-- for ev in reader:events() do ... end: the body parsed as server-sent events.
function reader_methods:events()
  return function()
    local event, err, code = until_ready(stream_event, self._stream)
    if event == nil and err ~= nil then
      self.error, self.error_code = err, code
    end
    return event
  end
end

function reader_methods:close()
  stream_close(self._stream)
end

local function stream(api, method, url, body, params)
  local s
  if params == nil then
    s = open_stream(api, method, url, body)
  else
    s = open_stream(api, method, url, normalise(api, body, params, "idle_timeout"))
  end
  local status, headers, err, code = until_ready(stream_head, s)
  return setmetatable({ _stream = s, status = status, headers = headers, error = err, error_code = code }, reader_mt)
end

function M.stream(method, url, body, params)
  if type(method) ~= "string" then
    error("http.stream: method must be a string", 2)
  end
  return stream("http.stream", method:upper(), url, body, params)
end

function M.sse(url, params)
  if params ~= nil and type(params) ~= "table" then
    error("http.sse: params must be a table", 2)
  end
  local copy = {}
  for key, value in pairs(params or {}) do
    copy[key] = value
  end
  copy.headers = with_default_header(copy.headers, "Accept", "text/event-stream")
  return stream("http.sse", "GET", url, nil, copy)
end

-- Helpers for luaload.Response (bindings/response.cpp); not part of the module scripts see.
local headers_mt = {
  -- Case-insensitive lookup: only reached when the exact spelling is not a key.
  __index = function(t, key)
    if type(key) ~= "string" then
      return nil
    end
    local lkey = lower(key)
    for name, value in pairs(t) do
      if lower(name) == lkey then
        return value
      end
    end
    return nil
  end,
}

local function response_json(res)
  local ok, value = pcall(json.decode, res.body)
  if not ok then
    error("res:json(): the response body is not valid JSON (" .. tostring(value) .. ")", 2)
  end
  return value
end

return M, { response_json = response_json, headers_mt = headers_mt }
