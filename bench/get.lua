-- SPDX-License-Identifier: MIT
-- The luaload side of the throughput benchmark: every iteration is one GET, nothing else.
-- The URL comes from `-e URL=...` (ll.env), else the process environment, else the bench's usual default.
local http = require("luaload.http")
local ll = require("luaload")

local function setting(name)
  local env = ll.env
  local value
  if type(env) == "function" then
    value = env(name)
  elseif type(env) == "table" then
    value = env[name]
  end
  return value or (os and os.getenv and os.getenv(name))
end

local URL = setting("URL") or "http://127.0.0.1:8080/"

function default()
  http.get(URL)
end
