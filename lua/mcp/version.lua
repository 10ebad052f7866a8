-- SPDX-License-Identifier: MIT
-- Protocol revisions and eras (basic/versioning): which revisions luaload.mcp speaks, how the answer to the
-- modern probe (server/discover) tells a modern server from a legacy one (the Backward Compatibility rules of the
-- streamable HTTP transport), and the era cache, kept per server (origin + path) for the whole run in ll.shared
-- (every worker sees it) so that the probe is paid once per server and worker at most.
local ll = require("luaload")
local wire = require("luaload.mcp.wire")
local new_error = require("luaload.mcp.errors").new

local type, ipairs, tostring, pcall, error, setmetatable = type, ipairs, tostring, pcall, error, setmetatable
local concat, match = table.concat, string.match

local M = {}

M.LATEST = "2026-07-28"
M.VERSIONS = { "2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26" }
M.NEWEST_LEGACY = "2025-11-25"
M.modern = { ["2026-07-28"] = true }
M.supported = { ["2026-07-28"] = true, ["2025-11-25"] = true, ["2025-06-18"] = true, ["2025-03-26"] = true }

-- The statuses the probe expects (params.expected_statuses, for http_req_failed): the default 200-399, so that a
-- modern answer and redirect hops count as usual, and 400/404/405, which mean a legacy server (classify below),
-- so that probing one is not a failed request.
M.PROBE_EXPECTED_STATUSES = { { min = 200, max = 399 }, 400, 404, 405 }

function M.era(version)
  return M.modern[version] and "modern" or "legacy"
end

-- The newest revision of `era` that both sides speak, from the server's list; nil when none.
local function mutual(list, era)
  for _, mine in ipairs(M.VERSIONS) do
    if M.era(mine) == era then
      for _, theirs in ipairs(list) do
        if theirs == mine then
          return mine
        end
      end
    end
  end
  return nil
end

local function string_list(value)
  if type(value) ~= "table" or value[1] == nil then
    return nil
  end
  for _, v in ipairs(value) do
    if type(v) ~= "string" then
      return nil
    end
  end
  return value
end

local function no_common(method, list, status)
  return new_error("version", method, { status = status, supported = list,
    message = "the server speaks " .. concat(list, ", ") .. "; luaload.mcp speaks " .. concat(M.VERSIONS, ", ") })
end

-- A verdict on a list of versions the server says it supports: modern, legacy (with the version), or error.
function M.from_list(list, method, status)
  local modern = mutual(list, "modern")
  if modern then
    return { kind = "modern", version = modern }
  end
  local legacy = mutual(list, "legacy")
  if legacy then
    return { kind = "legacy", version = legacy }
  end
  return { kind = "error", err = no_common(method, list, status) }
end

local function from_rpc_error(e, status, method)
  if e.code == wire.UNSUPPORTED_PROTOCOL_VERSION then
    local list = string_list(type(e.data) == "table" and e.data.supported)
    return list and M.from_list(list, method, status) or { kind = "legacy" }
  end
  if e.code == wire.HEADER_MISMATCH or e.code == wire.MISSING_CLIENT_CAPABILITY then
    return { kind = "error", err = new_error("protocol", method, { status = status, code = e.code,
      message = "the server refused the probe: " .. tostring(e.message) }) }
  end
  return nil
end

-- The verdict on the answer to the probe (a server/discover request), a transport answer:
--   {kind = "modern", version =, discover = result}   a DiscoverResult with a revision both speak
--   {kind = "legacy", version = nil | v}             not a modern server: initialize (with v when named)
--   {kind = "error", err =}                          neither: network failure, 5xx, auth, no common version
-- A -32022 UnsupportedProtocolVersionError picks from its `supported` list instead of falling back; any other
-- answer that is not a DiscoverResult (400/404/405 without a modern error, a result without supportedVersions,
-- another JSON-RPC error) means a legacy server. Over stdio (`transport_kind` "stdio", no status) every answer that
-- is not modern does, a timeout included (the stdio Backward Compatibility rule); a dead process stays an error.
function M.classify(answer, method, transport_kind)
  if answer.err then
    local kind = answer.err.kind
    if transport_kind == "stdio" and kind ~= "process" and kind ~= "auth" then
      return { kind = "legacy" }
    end
    return { kind = "error", err = answer.err }
  end
  local status = answer.status
  local response = answer.response
  if response and type(response.result) == "table" then
    local list = string_list(response.result.supportedVersions)
    if list == nil then
      return { kind = "legacy" }
    end
    local verdict = M.from_list(list, method, status)
    verdict.discover = response.result
    return verdict
  end
  local rpc = wire.rpc_error_of(response) or wire.rpc_error_of(answer.error_body)
  local verdict = rpc and from_rpc_error(rpc, status, method)
  if verdict then
    return verdict
  end
  if status == nil or (status >= 200 and status < 300) or status == 400 or status == 404 or status == 405 then
    return { kind = "legacy" }
  end
  return { kind = "error", err = new_error("http", method, { status = status, body = answer.body,
    message = "the server answered the protocol probe with HTTP " .. tostring(status) }) }
end

-- The era cache ---------------------------------------------------------------------------------------------------

local inflight = {}
-- Targets that are not URLs (stdio specs) are cached per target object: one server process each.
local object_cache = setmetatable({}, { __mode = "k" })

-- One entry per server: scheme://host:port/path, without query or fragment.
local function cache_key(url)
  return "luaload.mcp.era " .. (match(url, "^[^?#]*") or url)
end

-- "modern <version>", "legacy" or nil.
function M.cached(url)
  if type(url) ~= "string" then
    return object_cache[url]
  end
  return ll.shared.get(cache_key(url))
end

function M.remember(url, value)
  if type(url) ~= "string" then
    object_cache[url] = value
    return
  end
  ll.shared.set(cache_key(url), value)
end

-- Runs probe() once per worker and server at a time: a VU that finds a probe of the same server in flight waits
-- for it (ll.event, at most kProbeWaitMs) and returns nil, then reads the cache. Stdio targets are per process:
-- probed by their own session.
local kProbeWaitMs = 60000

function M.single_flight(url, probe)
  if type(url) ~= "string" then
    return probe()
  end
  local key = cache_key(url)
  local waiting = inflight[key]
  if waiting then
    waiting:wait(kProbeWaitMs / 1000)
    return nil
  end
  local ev = ll.event()
  inflight[key] = ev
  local ok, a, b = pcall(probe)
  inflight[key] = nil
  ev:notify()
  if not ok then
    error(a, 0)
  end
  return a, b
end

return M
