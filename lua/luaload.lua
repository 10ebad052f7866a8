-- SPDX-License-Identifier: MIT
-- The `luaload` module: check, sleep, group, fail, abort, env, now, vu, metrics, json, spawn, event, shared,
-- on_vu_end, executable.
-- `core` holds the C++ functions (bindings/*.cpp); `vu` is lua/vu.lua.
local core, json, vu = ...

local pairs, pcall, xpcall, type, error, tostring, select = pairs, pcall, xpcall, type, error, tostring, select
local unpack = unpack

local M = {}

M.json = { encode = json.encode, decode = json.decode, null = json.null }
M.sleep = core.sleep
M.abort = core.abort
M.env = core.env
M.now = core.now
M.executable = core.executable  -- the running luaload binary (/proc/self/exe)
M.event = core.event_new  -- bindings/event.cpp
-- One store for every worker thread of the run (bindings/shared_store.hpp).
M.shared = { get = core.shared_get, set = core.shared_set }

-- ll.vu.id / iteration / scenario describe the VU running the calling code.
M.vu = setmetatable({}, {
  __index = function(_, key) return core.vu_field(key) end,
  __newindex = function() error("ll.vu is read-only", 2) end,
})

function M.fail(message)
  if message == nil then
    message = "fail() called"
  end
  error(tostring(message), 2)
end

local function run_check(condition, value)
  if type(condition) ~= "function" then
    return condition and true or false
  end
  -- A check function that raises counts as a failed check, as in k6.
  local ok, result = pcall(condition, value)
  return ok and result and true or false
end

function M.check(value, checks, tags)
  if type(checks) ~= "table" then
    error("ll.check: the second argument must be a table of name = function|boolean", 2)
  end
  if tags ~= nil and type(tags) ~= "table" then
    error("ll.check: tags must be a table", 2)
  end
  local all = true
  for name, condition in pairs(checks) do
    local passed = run_check(condition, value)
    core.record_check(tostring(name), passed, tags)
    all = all and passed
  end
  return all
end

local function leave_group(depth, ok, ...)
  core.group_leave(depth, ok)
  if not ok then
    error((...), 0)
  end
  return ...
end

function M.group(name, fn)
  if type(fn) ~= "function" then
    error("ll.group: the second argument must be a function", 2)
  end
  local depth = core.group_enter(name)
  return leave_group(depth, xpcall(fn, vu.keep_traceback))
end

-- ll.spawn(fn, ...): fn runs as a background task of this VU (bindings/task.cpp); interrupted when the iteration
-- that spawned it ends.
local task_methods = {}
local task_mt = { __index = task_methods }

function task_methods:wait()
  while not self.finished do
    core.task_wait(self)
  end
  if not self.ok then
    error(self.error, 0)
  end
  return unpack(self.results, 1, self.results.n)
end

function task_methods:done()
  return self.finished
end

function M.spawn(fn, ...)
  if type(fn) ~= "function" then
    error("ll.spawn: the first argument must be a function", 2)
  end
  local task = setmetatable({ finished = false }, task_mt)
  core.spawn(task, fn, ...)
  return task
end

-- ll.on_vu_end(fn): fn runs once in this VU when it retires (bindings/vu_end.cpp); hook:cancel() unregisters it.
local hook_methods = {}
local hook_mt = { __index = hook_methods }

function hook_methods:cancel()
  return core.vu_end_cancel(self._vu, self._id)
end

function M.on_vu_end(fn)
  if type(fn) ~= "function" then
    error("ll.on_vu_end: the argument must be a function", 2)
  end
  local vu_key, id = core.on_vu_end(fn)
  return setmetatable({ _vu = vu_key, _id = id }, hook_mt)
end

local metric_methods = {}
local metric_mt = { __index = metric_methods }

function metric_methods:add(value, tags)
  core.metric_add(self.id, value, tags)
end

local function metric_constructor(kind)
  return function(name, is_time)
    local id = core.metric_define(name, kind, is_time and true or false)
    return setmetatable({ name = name, id = id }, metric_mt)
  end
end

M.metrics = {
  Counter = metric_constructor("counter"),
  Gauge = metric_constructor("gauge"),
  Rate = metric_constructor("rate"),
  Trend = metric_constructor("trend"),
}

return M
