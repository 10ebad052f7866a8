-- The luaload module's script-facing behaviour: checks, groups, json with null, env, vu, user coroutines around
-- engine calls, errors as values.
local http = require("luaload.http")
local ll = require("luaload")

function default()
  print("check", ll.check(200, { ["is 200"] = function(v) return v == 200 end }),
        ll.check(500, { ["is 200"] = function(v) return v == 200 end, ["is 5xx"] = function(v) return v >= 500 end }))

  ll.group("outer", function()
    ll.group("inner", function() print("in group") end)
  end)

  local decoded = ll.json.decode('{"a":null,"b":[1,2,3],"c":"x"}')
  print("json", decoded.a == ll.json.null, #decoded.b, decoded.c, ll.json.encode({ k = ll.json.null }))

  print("env", ll.env.TARGET ~= nil, ll.env.NOT_SET_ANYWHERE)
  print("vu", ll.vu.id, ll.vu.iteration)

  local fetch = coroutine.wrap(function()
    local res = http.get(ll.env.TARGET .. "/health")
    coroutine.yield(res.status)
    return "done"
  end)
  print("coroutine", fetch(), fetch())

  local ok, err = pcall(ll.json.decode, "{broken")
  print("bad json", ok, type(err))
end
