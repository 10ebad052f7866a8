-- SPDX-License-Identifier: MIT
-- Makes user coroutines transparent to engine yields. http.* and ll.sleep suspend the whole VU by yielding a
-- sentinel from whatever coroutine they run in. When that is a user coroutine, its resume() would receive the
-- sentinel as if it were a user yield; the wrappers below pass it up to the VU runner instead, wait for the
-- result, and hand it back down, so the user coroutine sees an ordinary blocking call.
local engine_yield = ...

local raw_create = coroutine.create
local raw_resume = coroutine.resume
local raw_yield = coroutine.yield

local function relay(co, ok, first, ...)
  if ok and first == engine_yield then
    return relay(co, raw_resume(co, raw_yield(first, ...)))
  end
  return ok, first, ...
end

local function resume(co, ...)
  return relay(co, raw_resume(co, ...))
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
    return unwrap(relay(co, raw_resume(co, ...)))
  end
end

coroutine.resume = resume
coroutine.wrap = wrap

return { raw_yield = raw_yield, raw_resume = raw_resume }
