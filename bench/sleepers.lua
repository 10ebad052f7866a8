-- SPDX-License-Identifier: MIT
-- The memory benchmark: VUs that do nothing but sleep, so peak RSS / VUs is the cost of an idle VU
-- (Lua coroutine, its globals, its timer and the scheduler's bookkeeping).
local ll = require("luaload")

function default()
  ll.sleep(1)
end
