-- SPDX-License-Identifier: MIT
-- ll.now(): the engine's monotonic clock in milliseconds.
local ll = require("luaload")

test("ll.now returns milliseconds that do not go backwards across a sleep", function()
  ll.sleep(0)  -- libuv timers count from the loop's cached time: let it catch up with the setup work first
  local before = ll.now()
  ll.sleep(0.02)
  local elapsed = ll.now() - before
  t.truthy(type(before) == "number" and before > 0, "a positive number")
  t.truthy(elapsed >= 19 and elapsed < 2000, "about 20 ms elapsed, got " .. elapsed)
end)
