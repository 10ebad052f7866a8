-- SPDX-License-Identifier: MIT
-- luaload.oauth.store: where a client keeps its tokens. A private store per client (per VU) by default; a shared
-- store (one per key per worker: module state lives in the worker's Lua state) when clients ask for one. A shared
-- store is single-flight: while one VU fetches a token the others that have no usable token wait on an ll.event()
-- instead of sending their own request; VUs whose token is due but still valid keep using it meanwhile
-- (refresh-ahead), so only the first fetch of a run makes anybody wait.
--
-- State of a store: access_token (nil: none yet / forgotten), token_type, refresh_token, scope, obtained_at,
-- expires_at (nil: unknown), renew_at, failures + retry_at (a renewal failed while the token was valid), fetching
-- (the event of the fetch in flight, with fetch_started), generation (bumped by every new token), fetch_seq
-- (bumped when a fetch ends) and last_err (the error of the last fetch, nil when it succeeded).
local ll = require("luaload")

local pcall, error = pcall, error

local M = {}

local shared = {}

function M.new()
  return { generation = 0, failures = 0 }
end

-- The worker's store for `key`, created on first use.
function M.shared(key)
  local store = shared[key]
  if store == nil then
    store = M.new()
    shared[key] = store
  end
  return store
end

-- Forgets every shared store (tests).
function M.reset_shared()
  shared = {}
end

-- A new event: ll.event() (the runtime's wait primitive), or `factory()` when the script injected one (tests).
function M.event(factory)
  if factory then
    return factory()
  end
  return ll.event()
end

-- Runs fetch() as the store's single flight: marks the store as fetching, runs it (protected, so a raising hook
-- cannot leave the mark behind), wakes the waiters, returns fetch's results or re-raises its error.
function M.single_flight(store, now_ms, factory, fetch)
  local ev = M.event(factory)
  store.fetching, store.fetch_started = ev, now_ms
  local ok, a, b = pcall(fetch)
  if store.fetching == ev then
    store.fetching, store.fetch_started = nil, nil
  end
  store.fetch_seq = (store.fetch_seq or 0) + 1
  store.last_err = ok and a == nil and b or nil
  ev:notify()
  if not ok then
    error(a, 0)
  end
  return a, b
end

-- Waits for the fetch in flight, at most timeout_s. A fetch that outlived its timeout (its VU was stopped while
-- waiting for the token endpoint) is abandoned so that the next caller fetches itself.
function M.wait(store, now_ms, timeout_s)
  local ev = store.fetching
  if ev == nil then
    return
  end
  if now_ms - (store.fetch_started or now_ms) > timeout_s * 1000 then
    store.fetching, store.fetch_started = nil, nil
    return
  end
  ev:wait(timeout_s)
end

return M
