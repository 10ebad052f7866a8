-- oauth_refresh.lua: an OAuth 2.0 login followed by API calls with the bearer token, renewed before it expires.
--
-- Shows: luaload.oauth (one token manager per VU, password grant, refresh-token rotation, renewal before expiry
-- with jitter), bearer calls on the content API (/api/*), checks, and thresholds per kind of request: the token
-- refreshes are tagged oauth_grant=refresh_token, so they get their own p95, and oauth_expired_token_retries
-- counts requests that went out with a token the server had already dropped. Run it against the built-in target:
--
--   luaload target --listen 127.0.0.1:8080 &
--   luaload run examples/oauth_refresh.lua -e TARGET=http://127.0.0.1:8080
--
-- `luaload target --token-ttl 5s` makes the server's own tokens short-lived; this script also renews every token
-- after about 2 s (max_lifetime 4 s, renewed 2 s before its end) so that even a 3-second run exercises the refresh
-- path. (`luaload demo` runs this example against a target started in-process.) docs/oauth.md documents the module.
local ll = require("luaload")
local oauth = require("luaload.oauth")

options = {
  vus = 10,
  duration = "20s",
  thresholds = {
    ["http_req_duration{kind:content}"] = { "p(95)<300" },
    ["http_req_duration{oauth_grant:refresh_token}"] = { "p(95)<100" },
    ["http_req_duration{oauth_grant:password}"] = { "p(95)<100" },
    http_req_failed = { "rate<0.01" },
    oauth_expired_token_retries = { "count==0" },
    checks = { "rate>0.99" },
  },
}

local base = ll.env.TARGET or "http://127.0.0.1:8080"

-- Init code runs once per VU, so every VU gets its own client, user and tokens. Nothing is sent until the first
-- request needs a token.
local client = oauth.new({
  token_url = base .. "/oauth/token",
  client_id = "luaload",
  client_secret = "secret",
  grant = "password",
  username = "u" .. ll.vu.id,
  password = "pass",
  scope = "read",
  skew = 0.1,        -- renew when 10 % of the lifetime is left (the default), at least 2 s before the end,
  jitter = 0.1,      -- up to 10 % of the lifetime earlier at random, so VUs do not refresh in lockstep
  max_lifetime = 4,  -- and treat every token as valid at most 4 s, whatever expires_in says
})

local content = { tags = { kind = "content" } }

-- client:get/post return nil, err when no token could be obtained (the token endpoint refused or was down): the
-- checks below then fail, and the error is printed once.
local reported = false
local function report(err)
  if err and not reported then
    reported = true
    print("no token: " .. tostring(err))
  end
end

function default()
  ll.group("catalogue", function()
    local res, err = client:get(base .. "/api/items", content)
    report(err)
    ll.check(res, {
      ["items is 200"] = function(r) return r ~= nil and r.status == 200 end,
      ["items are listed"] = function(r) return r ~= nil and #r:json().items > 0 end,
    })
  end)

  ll.group("order", function()
    local res, err = client:post(base .. "/api/items", ll.json.encode({ name = "anvil", quantity = 1 }), {
      headers = { ["Content-Type"] = "application/json" },
      tags = { kind = "content" },
    })
    report(err)
    ll.check(res, { ["order is 201"] = function(r) return r ~= nil and r.status == 201 end })
  end)

  local profile, err = client:get(base .. "/api/profile", content)
  report(err)
  ll.check(profile, {
    ["profile is this user's"] = function(r) return r ~= nil and r:json().user == "u" .. ll.vu.id end,
  })

  ll.sleep(0.2)
end
