-- SPDX-License-Identifier: MIT
-- Makes user coroutines transparent to engine yields. http.* and ll.sleep suspend the whole VU by yielding a
-- sentinel from whatever coroutine they run in. When that is a user coroutine, its resume() would receive the
-- sentinel as if it were a user yield; the wrappers below pass it up to the VU runner instead, wait for the
-- result, and hand it back down, so the user coroutine sees an ordinary blocking call.
--
-- A resume made where its caller cannot yield (inside a table.sort comparator, a string.gsub callback...) could not
-- pass an engine yield up: `guard` counts such resumes while they run, and yielding bindings refuse to start
-- meanwhile (WorkerRuntime::Impl::require_yieldable), so that nothing is left armed behind a failed yield.
local engine_yield, guard = ...

local raw_create = coroutine.create
local raw_resume = coroutine.resume
local raw_yield = coroutine.yield
local isyieldable = coroutine.isyieldable
local type = type

local function relay(co, ok, first, ...)
  if ok and first == engine_yield then
    return relay(co, raw_resume(co, raw_yield(first, ...)))
  end
  return ok, first, ...
end

local function unguard(...)
  guard(-1)
  return ...
end

local function resume(co, ...)
  if isyieldable() or type(co) ~= "thread" then
    return relay(co, raw_resume(co, ...))
  end
  guard(1)
  return unguard(raw_resume(co, ...))
end

local function unwrap(ok, ...)
  if not ok then
    error((...), 0)
  end
  return ...
end

local function wrap(fn)
  local co = raw_create(fn)
  return function(...)
    return unwrap(resume(co, ...))
  end
end

coroutine.resume = resume
coroutine.wrap = wrap

return { raw_yield = raw_yield, raw_resume = raw_resume }
