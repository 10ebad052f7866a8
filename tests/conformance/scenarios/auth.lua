-- SPDX-License-Identifier: MIT
-- The conformance suite's auth/* client scenarios (owner: the auth helper), driven through luaload.mcp's `auth`
-- option and luaload.oauth only. Contract: see tests/conformance/client.lua. Every scenario missing from this table
-- fails with "not implemented: <scenario>".
return {}
