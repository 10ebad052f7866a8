-- SPDX-License-Identifier: MIT
-- luaload.oauth renewal timing against injected clocks: the real expiry (JWT exp, expires_in), the margin floor,
-- jitter, keeping a valid token through failed renewals with backoff, and the single-flight shared store.
local oauth = require("luaload.oauth")
local expiry = require("luaload.oauth.expiry")
local jwt = require("luaload.oauth.jwt")
local store = require("luaload.oauth.store")
local ll = require("luaload")

local function clocks()
  local c = { ms = 0, wall = 1700000000 }
  c.now = function() return c.ms end
  c.wall_s = function() return c.wall end
  return c
end

-- A token endpoint whose behaviour the test switches: "ok" issues a<n>/r<n>, "down" answers 503.
local function server(opts)
  local srv = { mode = "ok", issued = 0, requests = 0 }
  function srv.request(method, url, body, params)
    srv.requests = srv.requests + 1
    if srv.delay then
      ll.sleep(srv.delay)
    end
    if srv.mode == "down" then
      return { status = 503, body = "maintenance", headers = {} }
    end
    srv.issued = srv.issued + 1
    local token = "a" .. srv.issued
    if opts.jwt_exp then
      token = jwt.sign({ sub = "u", exp = opts.jwt_exp() }, "k", { alg = "HS256" })
    end
    return { status = 200, headers = {}, body = ll.json.encode({ access_token = token, token_type = "Bearer",
      expires_in = opts.ttl, refresh_token = opts.refresh and ("r" .. srv.issued) or nil }) }
  end
  function srv.post(url, body, params) return srv.request("POST", url, body, params) end
  return srv
end

local function client(srv, c, extra)
  local config = { token_url = "http://t/token", client_id = "id", client_secret = "s", http = srv, now = c.now,
    wall = c.wall_s, random = function() return 0 end }
  for k, v in pairs(extra or {}) do
    config[k] = v
  end
  return oauth.new(config)
end

test("a JWT's exp wins over a longer expires_in, counted from a conservative wall clock", function()
  local c = clocks()
  -- exp is 5 s after the wall clock reads now; expires_in claims 60 s.
  local srv = server({ ttl = 60, jwt_exp = function() return c.wall + 5 end })
  local cl = client(srv, c)
  cl:token()
  t.eq(cl.expires_at, 4000, "exp - (wall + 1 s): the wall clock may be up to 1 s behind")
  t.eq(cl.renew_at, 2000, "the 2 s floor, capped at half of the 4 s left")
end)

test("the margin has a floor in seconds and a cap at half the lifetime", function()
  t.eq(expiry.margin_ms(100000, {}), 10000, "10 % of 100 s")
  t.eq(expiry.margin_ms(10000, {}), 2000, "2 s floor over 10 % of 10 s")
  t.eq(expiry.margin_ms(1000, {}), 500, "never more than half the lifetime")
  t.eq(expiry.margin_ms(10000, { min_skew_s = 3, skew = 0 }), 3000)
  t.eq(expiry.margin_ms(10000, { skew_s = 7 }), 7000, "skew_s fixes it")
end)

test("expires_at takes the earliest of expires_in, JWT exp and max_lifetime", function()
  t.eq(expiry.expires_at(1000, 10, nil, 1200, 500, nil), 11000)
  t.eq(expiry.expires_at(1000, 10, 505, 1200, 500, nil), 5200)
  t.eq(expiry.expires_at(1000, 10, nil, 1200, 500, 3), 4000)
  t.eq(expiry.expires_at(1000, nil, nil, 1200, 500, nil), nil, "nothing says: unknown")
end)

test("jitter spreads renewals of tokens obtained together, never before they were obtained", function()
  local lo = expiry.renew_at(0, 10000, {}, function() return 0 end)
  local hi = expiry.renew_at(0, 10000, {}, function() return 0.999 end)
  t.eq(lo, 8000)
  t.truthy(hi < 7100 and hi > 7000, "up to 10 % of the lifetime earlier: " .. hi)
  t.eq(expiry.renew_at(0, 1000, { jitter = 0.5 }, function() return 0.999 end) >= 0, true)
  local seen = {}
  for _ = 1, 20 do
    seen[expiry.renew_at(0, 10000, {}, math.random)] = true
  end
  local distinct = 0
  for _ in pairs(seen) do distinct = distinct + 1 end
  t.truthy(distinct > 10, "twenty VUs do not renew at one instant")
end)

test("a failed renewal keeps the valid token and retries with backoff until it expires", function()
  local c = clocks()
  local srv = server({ ttl = 10 })
  local cl = client(srv, c)
  t.eq(cl:token(), "a1")                     -- expires at 10 s, renew at 8 s
  srv.mode = "down"
  c.ms = 8000
  t.eq(cl:token(), "a1", "renewal failed: the valid token is still used")
  t.eq(srv.requests, 2)
  c.ms = 8400
  t.eq(cl:token(), "a1")
  t.eq(srv.requests, 2, "no retry before the 0.5 s backoff")
  c.ms = 8500
  t.eq(cl:token(), "a1")
  t.eq(srv.requests, 3, "retried")
  c.ms = 9400
  cl:token()
  t.eq(srv.requests, 3, "second backoff is 1 s")
  c.ms = 9500
  cl:token()
  t.eq(srv.requests, 4)
  c.ms = 10000
  local token, err = cl:token()
  t.eq(token, nil, "expired and the server is still down: now it is an error")
  t.eq(err.error, "http_503")
  srv.mode = "ok"
  t.eq(cl:token(), "a2", "back up: renewed at once")
end)

test("backoff doubles up to its ceiling", function()
  t.eq(expiry.retry_at(0, 1, {}), 500)
  t.eq(expiry.retry_at(0, 3, {}), 2000)
  t.eq(expiry.retry_at(0, 9, {}), 5000)
end)

test("logins and refreshes are counted with the client's tags", function()
  local c = clocks()
  local srv = server({ ttl = 10, refresh = true })
  local cl = client(srv, c, { tags = { tenant = "blue" } })
  cl:token()
  cl:refresh()
  t.eq(srv.requests, 2)
  -- The counters carry the tags the token requests carry (checked end to end in tests/integration).
  t.eq(cl.config.tags.tenant, "blue")
end)

test("a shared store is single-flight: concurrent VUs send one token request", function()
  store.reset_shared()
  local srv = server({ ttl = 60 })
  srv.delay = 0.05
  local tasks = {}
  for i = 1, 5 do
    tasks[i] = ll.spawn(function()
      local cl = oauth.new({ token_url = "http://t/token", client_id = "id", client_secret = "s", http = srv,
        shared = true })
      return cl:token()
    end)
  end
  for i = 1, 5 do
    t.eq(tasks[i]:wait(), "a1")
  end
  t.eq(srv.requests, 1, "one fetch for all")
end)

test("a shared token that is due is renewed by one VU while the others keep using it", function()
  store.reset_shared()
  local c = clocks()
  local srv = server({ ttl = 10 })
  local a = client(srv, c, { shared = true })
  local b = client(srv, c, { shared = true })
  t.eq(a:token(), "a1")
  srv.delay = 0.05
  c.ms = 8500
  local renewing = ll.spawn(function() return a:token() end)
  ll.sleep(0.01)
  t.eq(b:token(), "a1", "b does not wait: the token is still valid")
  t.eq(renewing:wait(), "a2")
  t.eq(b:token(), "a2")
  t.eq(srv.requests, 2)
end)

test("VUs waiting on a shared fetch that fails share its error instead of each sending their own", function()
  store.reset_shared()
  local srv = server({ ttl = 60 })
  srv.mode, srv.delay = "down", 0.05
  local tasks = {}
  for i = 1, 4 do
    tasks[i] = ll.spawn(function()
      local cl = oauth.new({ token_url = "http://t/token", client_id = "id", client_secret = "s", http = srv,
        shared = true })
      local token, err = cl:refresh()
      return token, err and err.error
    end)
  end
  for i = 1, 4 do
    local token, err = tasks[i]:wait()
    t.eq(token, nil)
    t.eq(err, "http_503")
  end
  t.eq(srv.requests, 1, "one request for all four")
end)
