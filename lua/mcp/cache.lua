-- SPDX-License-Identifier: MIT
-- The ttlMs cache of one session (server/utilities/caching): complete results of the cacheable methods are kept
-- for ttlMs milliseconds, keyed by method + params (without _meta); "private" results (cacheScope private, or no
-- scope given) only for the authorization context that fetched them. MRTR retries are never cached, and the
-- list_changed / resources/updated notifications invalidate what they concern. Each VU has its own sessions, so
-- each simulated client has its own cache, as real clients do. At most kMaxEntries entries.
local type, pairs, ipairs, tostring, tonumber, setmetatable, next = type, pairs, ipairs, tostring, tonumber,
  setmetatable, next
local sort, concat, format = table.sort, table.concat, string.format

local M = {}

M.cacheable = { ["server/discover"] = true, ["tools/list"] = true, ["prompts/list"] = true,
  ["resources/list"] = true, ["resources/templates/list"] = true, ["resources/read"] = true }

-- The cached methods a notification makes stale.
local invalidates = {
  ["notifications/tools/list_changed"] = { "tools/list" },
  ["notifications/prompts/list_changed"] = { "prompts/list" },
  ["notifications/resources/list_changed"] = { "resources/list", "resources/templates/list" },
}

local kMaxEntries = 256

local Cache = {}
Cache.__index = Cache

function M.new()
  return setmetatable({ entries = {}, count = 0 }, Cache)
end

local function canonical(value)
  if type(value) ~= "table" then
    return type(value) == "string" and format("%q", value) or tostring(value)
  end
  local keys = {}
  for k in pairs(value) do
    if k ~= "_meta" then
      keys[#keys + 1] = tostring(k)
    end
  end
  sort(keys)
  local parts = {}
  for i, k in ipairs(keys) do
    local v = value[k]
    if v == nil then
      v = value[tonumber(k)]
    end
    parts[i] = format("%q", k) .. ":" .. canonical(v)
  end
  return "{" .. concat(parts, ",") .. "}"
end

local function key_of(method, params)
  return method .. "\0" .. canonical(params or {})
end

-- A fresh cached result for method + params, or nil.
function Cache:get(method, params, auth_context, now)
  local key = key_of(method, params)
  local entry = self.entries[key] or self.entries[key .. "\0" .. (auth_context or "")]
  if entry and now < entry.expires then
    return entry.result
  end
  return nil
end

local function drop(self, key)
  if self.entries[key] then
    self.entries[key] = nil
    self.count = self.count - 1
  end
end

local function prune(self, now)
  for key, entry in pairs(self.entries) do
    if entry.expires <= now then
      drop(self, key)
    end
  end
end

-- Keeps a complete result when it says it may (ttlMs > 0); a result that may not be kept replaces (drops) what
-- was kept for the same request.
function Cache:put(method, params, result, auth_context, now)
  local ttl = type(result) == "table" and tonumber(result.ttlMs)
  local key = key_of(method, params)
  if not ttl or ttl <= 0 then
    drop(self, key)
    drop(self, key .. "\0" .. (auth_context or ""))
    return
  end
  if result.cacheScope ~= "public" then
    key = key .. "\0" .. (auth_context or "")
  end
  if self.entries[key] == nil then
    if self.count >= kMaxEntries then
      prune(self, now)
      if self.count >= kMaxEntries then
        return
      end
    end
    self.count = self.count + 1
  end
  local uri = method == "resources/read" and type(params) == "table" and params.uri or nil
  self.entries[key] = { result = result, expires = now + ttl, method = method, uri = uri }
end

-- Drops what `notification` makes stale.
function Cache:invalidate(notification)
  if next(self.entries) == nil or type(notification) ~= "table" then
    return
  end
  local methods = invalidates[notification.method]
  local uri = notification.method == "notifications/resources/updated" and type(notification.params) == "table"
    and notification.params.uri or nil
  if methods == nil and uri == nil then
    return
  end
  for key, entry in pairs(self.entries) do
    local stale = uri ~= nil and entry.uri == uri
    for _, m in ipairs(methods or {}) do
      stale = stale or entry.method == m
    end
    if stale then
      drop(self, key)
    end
  end
end

function Cache:clear()
  self.entries, self.count = {}, 0
end

M.key_of = key_of

return M
