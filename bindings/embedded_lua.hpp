// SPDX-License-Identifier: MIT
#pragma once

#include <string_view>

namespace luaload::bindings {

// The lua/*.lua files, embedded as text at build time (bindings/embed_lua.cmake generates the definition).
// Returns an empty view for an unknown name. `name` is the file name without ".lua", e.g. "http".
std::string_view embedded_lua(std::string_view name);

}  // namespace luaload::bindings
