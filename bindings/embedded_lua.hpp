// SPDX-License-Identifier: MIT
#pragma once

#include <string_view>
#include <vector>

namespace luaload::bindings {

// The lua/**/*.lua files, embedded as text at build time (bindings/embed_lua.cmake generates the definition).
// Returns an empty view for an unknown name. `name` is the path under lua/ without ".lua", e.g. "http" or
// "mcp/session".
std::string_view embedded_lua(std::string_view name);
// Every embedded name, in no particular order.
std::vector<std::string_view> embedded_lua_names();

}  // namespace luaload::bindings
