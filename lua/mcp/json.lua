-- SPDX-License-Identifier: MIT
-- JSON for luaload.mcp: lua-cjson, plus empty arrays that survive a round trip.
--
-- lua-cjson decodes `[]` and `{}` to the same empty Lua table, which it encodes back as `{}`; a tool schema's
-- `"required": []` (or any empty array a script echoes back to a server) would come out as an object. Here:
--   * decode(text) marks every empty array of the text with the array metatable (M.array_mt), so is_array() can
--     tell it from an empty object. Non-empty arrays need no mark: cjson keeps them sequences.
--   * encode(value) writes a marked empty table as `[]` (and any other empty table as `{}`, as cjson does).
--   * array(t) marks a table the script builds (`mcp.array({})` for an empty list in an answer).
-- How: decode() rewrites each `[]` outside strings to a sentinel string before cjson sees it, then swaps the
-- sentinels for marked tables; encode() swaps marked empty tables for the sentinel and rewrites its encoding to
-- `[]`. The sentinel holds a NUL byte, which no decoded string can hold unless the text spelled `\u0000` or held
-- a raw NUL; such texts (rare) are decoded by cjson alone, their empty arrays unmarked. encode() checks that it
-- rewrote exactly the sentinels it placed, so a script string that happens to equal it cannot be corrupted.
-- Texts without an empty array (the common case) cost one pattern search more than cjson.
local cjson = require("cjson")

local type, pairs, next, setmetatable, getmetatable, pcall, error = type, pairs, next, setmetatable, getmetatable,
  pcall, error
local find, sub, gsub, concat = string.find, string.sub, string.gsub, table.concat

local M = {}

M.null = cjson.null
M.array_mt = { __name = "luaload.mcp.array" }

local SENTINEL = "\0luaload:[]\0"
local SENTINEL_TEXT = '"\\u0000luaload:[]\\u0000"'
local SENTINEL_ENCODED = '"\\u0000luaload:%[%]\\u0000"'

function M.array(t)
  if t == nil then
    t = {}
  elseif type(t) ~= "table" then
    error("mcp.array: expected a table", 2)
  end
  return setmetatable(t, M.array_mt)
end

function M.is_array(t)
  return type(t) == "table" and (getmetatable(t) == M.array_mt or t[1] ~= nil)
end

-- The end of the JSON string that starts at `from` (the opening quote): the index of its closing quote.
local function string_end(text, from)
  local pos = from + 1
  while true do
    local at, _, c = find(text, '(["\\])', pos)
    if at == nil then
      return #text
    end
    if c == '"' then
      return at
    end
    pos = at + 2
  end
end

-- The text with every `[ ]` outside strings replaced by the sentinel; count of replacements.
local function mark_empty_arrays(text)
  local parts, pos, count = {}, 1, 0
  while true do
    local at, _, c = find(text, '(["%[])', pos)
    if at == nil then
      break
    end
    if c == '"' then
      local stop = string_end(text, at)
      parts[#parts + 1] = sub(text, pos, stop)
      pos = stop + 1
    else
      local _, close = find(text, "^%[%s*%]", at)
      if close then
        parts[#parts + 1] = sub(text, pos, at - 1)
        parts[#parts + 1] = SENTINEL_TEXT
        count = count + 1
        pos = close + 1
      else
        parts[#parts + 1] = sub(text, pos, at)
        pos = at + 1
      end
    end
  end
  parts[#parts + 1] = sub(text, pos)
  return concat(parts), count
end

local function unmark(value)
  for k, v in pairs(value) do
    if v == SENTINEL then
      value[k] = setmetatable({}, M.array_mt)
    elseif type(v) == "table" then
      unmark(v)
    end
  end
end

-- value, or nil, message (never raises).
function M.decode(text)
  if type(text) ~= "string" then
    return nil, "not a string"
  end
  local count = 0
  if find(text, "%[%s*%]") and not find(text, "\\u0000", 1, true) and not find(text, "%z") then
    text, count = mark_empty_arrays(text)
  end
  local ok, value = pcall(cjson.decode, text)
  if not ok then
    return nil, value
  end
  if count > 0 then
    if value == SENTINEL then
      return setmetatable({}, M.array_mt)
    end
    if type(value) == "table" then
      unmark(value)
    end
  end
  return value
end

-- A copy of `value` where the marked empty arrays are the sentinel (`value` itself when it has none); count.
local function with_sentinels(value)
  if getmetatable(value) == M.array_mt and next(value) == nil then
    return SENTINEL, 1
  end
  local copy, count = nil, 0
  for k, v in pairs(value) do
    if type(v) == "table" then
      local replaced, n = with_sentinels(v)
      if n > 0 then
        copy = copy or {}
        copy[k] = replaced
        count = count + n
      end
    end
  end
  if copy == nil then
    return value, 0
  end
  for k, v in pairs(value) do
    if copy[k] == nil then
      copy[k] = v
    end
  end
  return copy, count
end

-- The JSON text of `value`; raises (like cjson) for values JSON cannot carry.
function M.encode(value)
  if type(value) ~= "table" then
    return cjson.encode(value)
  end
  local prepared, count = with_sentinels(value)
  local text = cjson.encode(prepared)
  if count == 0 then
    return text
  end
  local out, replaced = gsub(text, SENTINEL_ENCODED, "[]")
  if replaced ~= count then
    error("mcp json: a string equal to the empty-array sentinel cannot be encoded", 2)
  end
  return out
end

return M
