// SPDX-License-Identifier: MIT
// The `luaload.encoding` module: base64, base64url, percent-encoding, form decoding (form_encode comes from
// lua/http.lua), hex.
#include <array>
#include <cstdint>
#include <string>

#include "bindings/crypto.hpp"

namespace luaload::bindings::codec {

namespace {

constexpr char kStandard[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kHex[] = "0123456789abcdef";

// Sextet value of each byte in the alphabet, -1 for bytes outside it.
std::array<int8_t, 256> reverse_alphabet(const char* alphabet) {
  std::array<int8_t, 256> table{};
  table.fill(-1);
  for (int i = 0; i < 64; ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  }
  return table;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// Strips the padding a well-formed input may carry; false when padding is misplaced or the length is impossible.
bool strip_padding(std::string_view* text, bool url) {
  size_t pads = 0;
  while (pads < 2 && pads < text->size() && (*text)[text->size() - 1 - pads] == '=') ++pads;
  if (pads > 0 || !url) {
    if (text->size() % 4 != 0) return false;  // padded input always comes in whole quanta
  }
  text->remove_suffix(pads);
  return text->size() % 4 != 1;  // one leftover sextet cannot encode a byte
}

}  // namespace

std::string base64_encode(std::string_view bytes, bool url) {
  const char* alphabet = url ? kUrl : kStandard;
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) |
                       uint32_t(uint8_t(bytes[i + 2]));
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    if (rest == 2) out += alphabet[(n >> 6) & 63];
    if (!url) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text, bool url) {
  static const auto kStandardReverse = reverse_alphabet(kStandard);
  static const auto kUrlReverse = reverse_alphabet(kUrl);
  const auto& reverse = url ? kUrlReverse : kStandardReverse;
  if (!strip_padding(&text, url)) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    const int value = reverse[static_cast<unsigned char>(c)];
    if (value < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  // Leftover bits must be zero, or two different texts would decode to the same bytes.
  if ((bits & ((1u << count) - 1)) != 0) return std::nullopt;
  return out;
}

std::string url_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (unreserved(byte)) {
      out += c;
    } else {
      out += '%';
      out += "0123456789ABCDEF"[byte >> 4];
      out += "0123456789ABCDEF"[byte & 15];
    }
  }
  return out;
}

std::optional<std::string> url_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;  // needs two hex digits after '%'
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += (plus_is_space && c == '+') ? ' ' : c;
    }
  }
  return out;
}

std::string hex_encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  }
  return out;
}

}  // namespace luaload::bindings::codec

namespace luaload::bindings {

namespace {

std::string_view check_bytes(lua_State* L, int index) {
  size_t length = 0;
  const char* data = luaL_checklstring(L, index, &length);
  return {data, length};
}

void push_string(lua_State* L, const std::string& text) { lua_pushlstring(L, text.data(), text.size()); }

int l_encoding_base64_encode(lua_State* L) {
  push_string(L, codec::base64_encode(check_bytes(L, 1), false));
  return 1;
}

int l_encoding_base64url_encode(lua_State* L) {
  push_string(L, codec::base64_encode(check_bytes(L, 1), true));
  return 1;
}

int decode_base64(lua_State* L, bool url, const char* api) {
  auto decoded = codec::base64_decode(check_bytes(L, 1), url);
  if (!decoded) {
    return luaL_error(L, "%s: invalid %s input", api, url ? "base64url" : "base64");
  }
  push_string(L, *decoded);
  return 1;
}

int l_encoding_base64_decode(lua_State* L) { return decode_base64(L, false, "encoding.base64_decode"); }
int l_encoding_base64url_decode(lua_State* L) { return decode_base64(L, true, "encoding.base64url_decode"); }

int l_encoding_url_encode(lua_State* L) {
  // Numbers are accepted like in string concatenation; luaL_checklstring converts them.
  push_string(L, codec::url_encode(check_bytes(L, 1)));
  return 1;
}

int l_encoding_url_decode(lua_State* L) {
  auto decoded = codec::url_decode(check_bytes(L, 1), lua_toboolean(L, 2) != 0);
  if (!decoded) {
    return luaL_error(L, "encoding.url_decode: malformed percent-encoding (a %% must be followed by two hex digits)");
  }
  push_string(L, *decoded);
  return 1;
}

int l_encoding_hex_encode(lua_State* L) {
  push_string(L, codec::hex_encode(check_bytes(L, 1)));
  return 1;
}

// Adds value (on top) under key (below it) to the table at `table`: a repeated key turns into an array.
void add_form_field(lua_State* L, int table) {
  lua_pushvalue(L, -2);
  lua_rawget(L, table);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_rawset(L, table);
    return;
  }
  if (!lua_istable(L, -1)) {
    lua_createtable(L, 2, 0);
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);  // the earlier value becomes item 1
    lua_pushvalue(L, -3);   // key
    lua_pushvalue(L, -2);   // the new array
    lua_rawset(L, table);
  }
  lua_insert(L, -2);  // array below the value
  lua_rawseti(L, -2, static_cast<int>(lua_objlen(L, -2)) + 1);
  lua_pop(L, 2);  // array, key
}

// encoding.form_decode("a=1&b=x+y&a=2") -> {a = {"1", "2"}, b = "x y"}
int l_encoding_form_decode(lua_State* L) {
  const std::string_view text = check_bytes(L, 1);
  lua_settop(L, 1);
  lua_newtable(L);
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('&', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view pair = text.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    auto key = codec::url_decode(pair.substr(0, equals), true);
    auto value = codec::url_decode(equals == std::string_view::npos ? "" : pair.substr(equals + 1), true);
    if (!key || !value) {
      const std::string shown(pair.substr(0, 64));
      return luaL_error(L, "encoding.form_decode: malformed percent-encoding in \"%s\"", shown.c_str());
    }
    push_string(L, *key);
    push_string(L, *value);
    add_form_field(L, 2);
  }
  return 1;
}

}  // namespace

void open_encoding(lua_State* L) {
  static const luaL_Reg kFunctions[] = {
      {"base64_encode", l_encoding_base64_encode},
      {"base64_decode", l_encoding_base64_decode},
      {"base64url_encode", l_encoding_base64url_encode},
      {"base64url_decode", l_encoding_base64url_decode},
      {"url_encode", l_encoding_url_encode},
      {"url_decode", l_encoding_url_decode},
      {"form_decode", l_encoding_form_decode},
      {"hex_encode", l_encoding_hex_encode},
      {nullptr, nullptr},
  };
  lua_newtable(L);
  luaL_register(L, nullptr, kFunctions);
}

}  // namespace luaload::bindings
