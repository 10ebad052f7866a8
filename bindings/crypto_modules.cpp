// SPDX-License-Identifier: MIT
// Registration of the helper modules luaload.encoding and luaload.crypto.
#include "bindings/crypto.hpp"

namespace luaload::bindings {

void open_helper_modules(lua_State* L, int loaded) {
  open_encoding(L);
  lua_getfield(L, loaded, "luaload.http");
  lua_getfield(L, -1, "encode_form");
  lua_setfield(L, -3, "form_encode");
  lua_pop(L, 1);
  lua_setfield(L, loaded, "luaload.encoding");

  open_crypto(L);
  lua_setfield(L, loaded, "luaload.crypto");
}

}  // namespace luaload::bindings
