-- SPDX-License-Identifier: MIT
-- luaload.oauth.expiry: when a token really expires and when to renew it. Pure functions of the clocks they are
-- given (monotonic milliseconds for the client, wall-clock seconds for JWT claims), so tests drive them with
-- injected clocks. docs/oauth.md ("Renewal") states the rules.
--
-- Why not just `expires_in` counted from the request: servers stamp `iat`/`exp` in whole seconds and resource
-- servers often allow no clock skew, so a "5 s" token may live only 4 s. When the access token is a JWT its
-- `exp` is the truth; the earlier of the two ends wins.
local jwt = require("luaload.oauth.jwt")

local type, tonumber, huge = type, tonumber, math.huge
local min, max = math.min, math.max

local M = {}

M.DEFAULTS = {
  skew = 0.1,        -- renew when this fraction of the lifetime is left...
  min_skew_s = 2,    -- ...but at least this many seconds before the end (capped at half the lifetime)
  jitter = 0.1,      -- renew up to this fraction of the lifetime earlier, at random, per token
  retry_min_s = 0.5, -- first retry of a failed renewal while the token is still valid
  retry_max_s = 5,   -- backoff ceiling
}

-- The `exp` claim (wall-clock seconds) of an access token that is a JWT, else nil. Not verified: the client only
-- reads when its own token ends.
function M.jwt_exp(access_token)
  if type(access_token) ~= "string" then
    return nil
  end
  local _, claims = jwt.decode(access_token)
  return claims and tonumber(claims.exp) or nil
end

-- When a token obtained by a request sent at `started_ms` (client clock) ends, in client milliseconds, or nil
-- when nothing says (only a 401 renews such a token).
--   expires_in: seconds from the token response; exp: the JWT claim (wall seconds); now_ms / wall_s: the two
--   clocks read together when the answer arrived; max_lifetime: the script's cap in seconds.
-- The wall clock is whole seconds (os.time() truncates), so the true time may be up to 1 s later than wall_s:
-- counting from wall_s + 1 can only renew early.
function M.expires_at(started_ms, expires_in, exp, now_ms, wall_s, max_lifetime)
  local ends = huge
  if expires_in then
    ends = started_ms + expires_in * 1000
  end
  if exp and wall_s then
    ends = min(ends, now_ms + (exp - (wall_s + 1)) * 1000)
  end
  if max_lifetime then
    ends = min(ends, started_ms + max_lifetime * 1000)
  end
  return ends ~= huge and ends or nil
end

-- The renewal margin (ms) for a token of `lifetime_ms`: `skew_s` when the script fixed it (old behaviour: at most
-- the whole lifetime), else max(min_skew_s, skew * lifetime) capped at half the lifetime so that a very short token
-- is not renewed on every call.
function M.margin_ms(lifetime_ms, opts)
  if opts.skew_s then
    return min(opts.skew_s * 1000, lifetime_ms)
  end
  local skew = opts.skew or M.DEFAULTS.skew
  local floor_s = opts.min_skew_s or M.DEFAULTS.min_skew_s
  return min(max(floor_s * 1000, skew * lifetime_ms), lifetime_ms / 2)
end

-- When to renew (client ms) a token obtained at `obtained_ms` that ends at `expires_at_ms` (nil: never by the
-- clock). `random` returns [0, 1): the jitter moves each token's renewal earlier by up to `jitter` x lifetime so
-- that VUs that logged in together spread their refreshes out; it never moves it before `obtained_ms`.
function M.renew_at(obtained_ms, expires_at_ms, opts, random)
  if expires_at_ms == nil then
    return huge
  end
  local lifetime = max(expires_at_ms - obtained_ms, 0)
  local at = expires_at_ms - M.margin_ms(lifetime, opts)
  local jitter = opts.jitter or M.DEFAULTS.jitter
  if jitter > 0 and random then
    at = at - random() * jitter * lifetime
  end
  return max(at, obtained_ms)
end

-- When to retry (client ms) after the `failures`-th failed renewal at `now_ms`: exponential backoff from
-- retry_min_s doubling up to retry_max_s.
function M.retry_at(now_ms, failures, opts)
  local first = opts.retry_min_s or M.DEFAULTS.retry_min_s
  local ceiling = opts.retry_max_s or M.DEFAULTS.retry_max_s
  return now_ms + min(first * 2 ^ max(failures - 1, 0), ceiling) * 1000
end

return M
