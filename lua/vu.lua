-- SPDX-License-Identifier: MIT
-- The bodies of VU coroutines. A VU runs one coroutine for many iterations (no coroutine per iteration): it
-- yields `iteration_done` between them and the runner resumes it when the scheduler starts the next one.
local iteration_done, raw_yield, json = ...

local traceback = debug.traceback
local xpcall, pcall, tostring, type, getmetatable = xpcall, pcall, tostring, type, getmetatable
local pairs, ipairs, sort = pairs, ipairs, table.sort

local M = {}

-- group() catches errors to leave the group, then re-raises them; it remembers the traceback taken where the error
-- was raised so that the report points at the real culprit rather than at group().
local kept_error, kept_traceback

-- error({code = 7}) would read "table: 0x55d1..." - a new text each time, so every iteration would add one more
-- distinct error to the report. Tables without __tostring are shown by their JSON instead.
local function describe(err)
  if type(err) ~= "table" then
    return tostring(err)
  end
  local mt = getmetatable(err)
  if mt ~= nil and mt.__tostring ~= nil then
    return tostring(err)
  end
  local ok, text = pcall(json.encode, err)
  return ok and "error object " .. text or "error object (a table that is not JSON)"
end

function M.keep_traceback(err)
  kept_error, kept_traceback = err, traceback(describe(err), 2)
  return err
end

local function on_error(err)
  if err == kept_error and kept_traceback then
    local tb = kept_traceback
    kept_error, kept_traceback = nil, nil
    return tb
  end
  return traceback(describe(err), 2)
end

-- fn(data) once per resume, forever; reports (iteration_done, ok, error-with-traceback).
function M.iterations(fn, data)
  while true do
    local ok, err = xpcall(fn, on_error, data)
    raw_yield(iteration_done, ok, err)
  end
end

local function encode_setup_data(value)
  local ok, res = pcall(json.encode, value)
  if ok then
    return true, res
  end
  return false, "setup() returned a value that cannot be passed to the VUs as JSON: " .. tostring(res)
end

-- setup()/teardown(): runs fn(data) once; with `encode`, the result is returned as JSON.
function M.once(fn, data, encode)
  local ok, res = xpcall(fn, on_error, data)
  if ok then
    if encode then
      ok, res = encode_setup_data(res)
    else
      res = nil
    end
  end
  raw_yield(iteration_done, ok, res)
end

-- The body of an ll.spawn task's coroutine: fn(...) with the same error handling as an iteration. The runner
-- reads (true, results...) or (false, error with traceback) when it returns.
function M.task(fn, ...)
  return xpcall(fn, on_error, ...)
end

-- A VU's end hooks (ll.on_vu_end, bindings/vu_end.cpp), in the order they were registered: `hooks` maps ids to
-- functions. An error in one goes to `report` (counted like an iteration error) and the next one still runs; a
-- hook cancelled by an earlier one is skipped.
function M.end_hooks(hooks, report)
  local ids = {}
  for id in pairs(hooks) do
    ids[#ids + 1] = id
  end
  sort(ids)
  for _, id in ipairs(ids) do
    local fn = hooks[id]
    if fn ~= nil then
      hooks[id] = nil
      local ok, err = xpcall(fn, on_error)
      if not ok then
        report(err)
      end
    end
  end
  raw_yield(iteration_done, true, nil)
end

-- setup()'s JSON back into a value, JSON null becoming nil.
function M.decode_data(text)
  local value = json.decode(text)
  if value == json.null then
    return nil
  end
  return value
end

return M
