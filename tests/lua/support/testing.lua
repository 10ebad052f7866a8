-- SPDX-License-Identifier: MIT
-- The assert helper of tests/lua/*_test.lua (run by tests/bindings/lua_scripts_test.cpp): `test(name, fn)`
-- registers a test; the runner calls run() in a VU iteration, which runs every test and raises one error listing
-- each failure. No third-party framework: eq, near, truthy, raises.
local T = {}
local tests = {}

local function show(value)
  if type(value) == "string" then
    return string.format("%q", value)
  end
  return tostring(value)
end

local function deep_equal(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then
    return a == b
  end
  for key, value in pairs(a) do
    if not deep_equal(value, b[key]) then
      return false
    end
  end
  for key in pairs(b) do
    if a[key] == nil then
      return false
    end
  end
  return true
end

local function describe(value)
  if type(value) ~= "table" then
    return show(value)
  end
  local keys = {}
  for key in pairs(value) do
    keys[#keys + 1] = key
  end
  table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
  local parts = {}
  for _, key in ipairs(keys) do
    parts[#parts + 1] = tostring(key) .. "=" .. describe(value[key])
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

function T.test(name, fn)
  tests[#tests + 1] = { name = name, fn = fn }
end

-- Exact equality, tables compared by content.
function T.eq(actual, expected, what)
  if not deep_equal(actual, expected) then
    error(string.format("%sexpected %s, got %s", what and (what .. ": ") or "", describe(expected),
      describe(actual)), 2)
  end
end

function T.truthy(value, what)
  if not value then
    error((what or "value") .. " should be truthy, got " .. show(value), 2)
  end
end

-- fn() must raise an error whose message contains `text` (plain substring).
function T.raises(fn, text)
  local ok, err = pcall(fn)
  if ok then
    error("expected an error containing " .. show(text) .. ", but nothing was raised", 2)
  end
  if not string.find(tostring(err), text, 1, true) then
    error("expected an error containing " .. show(text) .. ", got " .. show(tostring(err)), 2)
  end
end

function T.run()
  if #tests == 0 then
    error("no test registered (call test(name, fn))", 0)
  end
  local failures = {}
  for _, case in ipairs(tests) do
    local ok, err = xpcall(case.fn, debug.traceback)
    if not ok then
      failures[#failures + 1] = case.name .. ": " .. tostring(err)
    end
  end
  if #failures > 0 then
    error(string.format("%d of %d tests failed:\n%s", #failures, #tests, table.concat(failures, "\n")), 0)
  end
end

return T
