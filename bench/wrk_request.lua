-- SPDX-License-Identifier: MIT
-- "Scripted wrk": the same GET as plain wrk, but built by a Lua request() call for every request, which is the
-- per-request scripting cost luaload is compared against (wrk skips Lua entirely without such a function).
request = function()
  return wrk.format("GET", wrk.path)
end
