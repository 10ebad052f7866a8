-- mcp_authorized.lua: an MCP journey against a server that requires OAuth, with the whole MCP authorization flow
-- done by luaload.mcp itself: the 401, protected resource metadata, authorization server metadata, dynamic client
-- registration, the authorization code grant with PKCE (luaload follows the auto-approving authorize endpoint),
-- the token with the resource indicator, then bearer calls, renewal before expiry and a step-up when a tool needs
-- a scope the token lacks.
--
-- Shows: mcp.connect(url, { auth = ... }), errors of kind "auth", the oauth_* and mcp_auth_flows counters, and
-- thresholds on the token endpoint separately from the MCP calls. Run it against the built-in target, whose
-- /protected/mcp route is the same MCP server as /mcp behind its own authorization server (docs/target.md):
--
--   luaload target --listen 127.0.0.1:8080 &
--   luaload run examples/mcp_authorized.lua -e TARGET=http://127.0.0.1:8080
--
-- Each VU keeps its token across its sessions (a new mcp.connect every iteration does not authorize again), and
-- the discovery and registration are done once for the whole run. docs/mcp-authorization.md documents opts.auth.
local ll = require("luaload")
local mcp = require("luaload.mcp")
require("luaload.oauth")  -- defines the oauth_* counters, so that thresholds may name them

options = {
  vus = 5,
  duration = "20s",
  thresholds = {
    mcp_errors = { "rate<0.01" },
    ["http_req_duration{name:oauth_token}"] = { "p(95)<200" },
    oauth_expired_token_retries = { "count==0" },
    checks = { "rate>0.99" },
  },
}

local url = (ll.env.TARGET or "http://127.0.0.1:8080") .. "/protected/mcp"

local auth = {
  client_name = "luaload example",   -- registered once for the run (dynamic client registration)
  max_lifetime = 10,                 -- renew at least every ~8 s even if the server's tokens live longer
}

local reported = false

function default()
  local session, err = mcp.connect(url, { auth = auth })
  if not ll.check(session, { ["authorized session"] = function(s) return s ~= nil end }) then
    if not reported then
      reported = true
      print("could not connect: " .. tostring(err))  -- err.kind == "auth" when authorization failed
    end
    return
  end

  local tools, lerr = session:tools_list()
  ll.check(tools, { ["tools listed"] = function(t) return lerr == nil and t ~= nil and #t.tools > 0 end })

  local echoed, eerr = session:call_tool("echo", { text = "hello " .. ll.vu.id })
  ll.check(echoed, { ["echo answers"] = function(r) return eerr == nil and r ~= nil end })

  -- test_step_up needs the mcp:write scope: the first call gets 403 insufficient_scope, luaload asks for the
  -- broader scope and sends the call again; the VU's later sessions already have it.
  local stepped, serr = session:call_tool("test_step_up", {})
  ll.check(stepped, { ["step-up tool answers"] = function(r) return serr == nil and r ~= nil end })

  session:close()
  ll.sleep(0.5)
end
