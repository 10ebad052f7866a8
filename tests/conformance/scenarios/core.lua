-- SPDX-License-Identifier: MIT
-- The conformance suite's client scenarios but auth/* (owner: the core helper), driven through luaload.mcp only.
-- Contract: see tests/conformance/client.lua. Every scenario missing from this table fails with
-- "not implemented: <scenario>".
return {}
