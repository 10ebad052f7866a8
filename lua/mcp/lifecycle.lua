-- SPDX-License-Identifier: MIT
-- Opening and closing luaload.mcp sessions (added to luaload.mcp.session's Session): the auto probe and its
-- fallback, the legacy initialize handshake, the free 2026-07-28 open, server/discover, close (DELETE), and the
-- ll.on_vu_end hook that closes what a retiring VU left open. The state table is in lua/mcp/session.lua.
local ll = require("luaload")
local session = require("luaload.mcp.session")
local metrics = require("luaload.mcp.metrics")
local version = require("luaload.mcp.version")
local new_error = require("luaload.mcp.errors").new

local type, pairs, tostring, pcall = type, pairs, tostring, pcall
local lower, find = string.lower, string.find
local now = ll.now

local Session = session.Session
local client_info = session.client_info

-- Metrics and VU end ----------------------------------------------------------------------------------------------

local vu_sessions = {}

-- Open legacy sessions (and every stdio session) are closed when their VU retires (ll.on_vu_end).
local function track(self)
  local ok, vu = pcall(function() return ll.vu.id end)
  if not ok or vu == nil then
    return
  end
  local set = vu_sessions[vu]
  if set == nil then
    set = {}
    vu_sessions[vu] = set
    ll.on_vu_end(function()
      vu_sessions[vu] = nil
      for session in pairs(set) do
        session:close()
      end
    end)
  end
  set[self] = true
  self.tracked_vu = vu
end

local function untrack(self)
  local set = self.tracked_vu and vu_sessions[self.tracked_vu]
  if set then
    set[self] = nil
  end
end


-- Opening ---------------------------------------------------------------------------------------------------------

function Session:open_modern(v, discovered)
  self.era, self.protocol_version, self.id, self.closed = "modern", v, nil, false
  if discovered then
    self:note_discover(discovered)
    if self.opts.cache ~= false then
      self.cache:put("server/discover", nil, discovered, self.transport:auth_context(), now())
    end
  elseif self.opts.discover then
    local result, err = self:discover()
    if err then
      self.closed = true
      return nil, err
    end
    discovered = result
  end
  metrics.sessions:add(1, metrics.tags(self, "open"))
  track(self)
  return discovered or {}
end

function Session:note_discover(result)
  self.discovered = result
  self.server_capabilities = result.capabilities
  self.instructions = result.instructions
  self.supported_versions = result.supportedVersions
  self:note_server_info(result)
  if self.server_info == nil and type(result.serverInfo) == "table" then
    self.server_info = result.serverInfo
  end
end

function Session:discover(call)
  local result, err, notes = self:request("server/discover", nil, call)
  if result then
    self:note_discover(result)
  end
  return result, err, notes
end

-- The legacy handshake: initialize + notifications/initialized (+ logging/setLevel with opts.log_level).
function Session:initialize_legacy(v)
  self.era, self.protocol_version, self.id, self.closed, self.version_hint = "legacy", nil, nil, true, v
  local params = { protocolVersion = v, capabilities = self.opts.capabilities or {}, clientInfo = client_info(self) }
  local o = self:run("initialize", params, {})
  local result = o.result
  if result and not (version.supported[result.protocolVersion] and version.era(result.protocolVersion) == "legacy") then
    o.err = new_error("protocol", "initialize", { message = "the server chose unsupported protocol version "
      .. tostring(result.protocolVersion) })
  end
  if o.err == nil then
    self.protocol_version = result.protocolVersion
  end
  metrics.record(self, "initialize", nil, o.err ~= nil, o.duration_ms)
  if o.err then
    return nil, o.err
  end
  self.server_info, self.server_capabilities, self.instructions = result.serverInfo, result.capabilities,
    result.instructions
  self.closed = false
  self.id = self.last_response and self.last_response.session_id
  metrics.sessions:add(1, metrics.tags(self, "initialize"))
  track(self)
  local ok, err = self:notify("notifications/initialized")
  if not ok then
    return nil, err
  end
  if self.opts.log_level and type(self.server_capabilities) == "table" and self.server_capabilities.logging then
    self:request("logging/setLevel", { level = self.opts.log_level })
  end
  return result
end

-- The auto probe: server/discover at the newest revision; a legacy answer falls back (cached for the run).
function Session:probe()
  self.era, self.protocol_version = "modern", version.LATEST
  local probe = { expected_statuses = version.PROBE_EXPECTED_STATUSES }
  local answer = self:exchange("server/discover", nil, probe, {}, {})
  local verdict = version.classify(answer, "server/discover", self.transport.kind)
  if verdict.kind == "modern" then
    version.remember(self.url, "modern " .. verdict.version)
    metrics.record(self, "server/discover", nil, false, answer.duration_ms)
    return verdict
  end
  if verdict.kind == "legacy" then
    version.remember(self.url, "legacy")
    local tags = metrics.tags(self, "server/discover")
    metrics.version_fallbacks:add(1, tags)
    if answer.duration_ms then
      metrics.version_probe_duration:add(answer.duration_ms, tags)
    end
  end
  return verdict
end

-- Opens the session (or a new one on a closed or lost one). Returns the initialize result (legacy), the
-- server/discover result when there was one (modern), else {}; or nil, err.
function Session:initialize()
  self.closed = true
  local requested = self.requested_version
  if requested ~= "auto" then
    if version.era(requested) == "modern" then
      return self:open_modern(requested)
    end
    return self:initialize_legacy(requested)
  end
  local verdict
  local cached = version.cached(self.url)
  if cached == nil then
    verdict = version.single_flight(self.url, function() return self:probe() end)
    cached = version.cached(self.url)
    if verdict == nil and cached == nil then
      verdict = self:probe()  -- another VU's probe failed: try for ourselves
      cached = version.cached(self.url)
    end
    if verdict and verdict.kind == "error" then
      self.era, self.protocol_version = nil, nil
      return nil, verdict.err
    end
  end
  local modern = cached and cached:match("^modern (.+)$")
  if modern then
    return self:open_modern(modern, verdict and verdict.discover)
  end
  return self:initialize_legacy(verdict and verdict.version or version.NEWEST_LEGACY)
end

Session.open = Session.initialize

-- The statuses a DELETE expects (http_req_failed): 200-399, and 404 (the server forgot the session) or 405 (it
-- does not let clients end sessions), which count as closed. A 400 counts as closed only when its body talks
-- about the session, which is not known before the answer: it stays a failed request.
local kCloseExpectedStatuses = { { min = 200, max = 399 }, 404, 405 }

-- Ends the session: stops its listen streams; legacy: DELETE (tagged mcp_method "close"). A 404 or 405, or a
-- 400 "no valid session", still counts as closed. true, or nil, err.
function Session:close()
  if self.closed then
    return true
  end
  for listener in pairs(self.listeners) do
    listener:close()
  end
  local answer
  if self.era == "legacy" and self.id ~= nil then
    answer = self.transport:close_session(self:ctx("close", { expected_statuses = kCloseExpectedStatuses }))
    self.last_response = answer
  end
  self.closed, self.id = true, nil
  untrack(self)
  self.transport:close()
  if answer == nil then
    return true
  end
  local s = answer.status or 200  -- stdio: nothing to answer
  local gone = s == 404 or s == 405 or (s == 400 and find(lower(answer.body or ""), "session", 1, true) ~= nil)
  local err
  if answer.err then
    err = answer.err
  elseif not gone and (s < 200 or s >= 300) then
    err = new_error("http", "close", { status = s, body = answer.body, message = "unexpected status" })
  end
  metrics.record(self, "close", nil, err ~= nil, answer.duration_ms)
  if err then
    return nil, err
  end
  return true
end



return Session
