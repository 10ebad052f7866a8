// SPDX-License-Identifier: MIT
// Which response statuses count as expected, i.e. not failed, in http_req_failed and the expected_response tag:
// k6's expectedStatuses rule. A request has one when the script gave params.expected_statuses or its VU set a
// default (http.set_expected_statuses); otherwise the default rule, 200-399, applies. lua/http.lua validates the
// lists and their error messages; the bindings only read them.
#pragma once

#include <lua.hpp>

#include <array>
#include <cstdint>
#include <optional>

namespace luaload::bindings {

// A set of three-digit status codes as a fixed bitset: it lives inside a VuState or a StreamState, is copied
// without allocating, and answers in O(1).
class ExpectedStatuses {
 public:
  static constexpr int kLowest = 100;
  static constexpr int kHighest = 999;

  // Adds lo..hi (inclusive), clipped to kLowest..kHighest.
  void add(int lo, int hi);
  bool contains(int status) const {
    if (status < kLowest || status > kHighest) return false;
    return ((bits_[static_cast<size_t>(status) / 64] >> (status % 64)) & 1u) != 0;
  }
  bool operator==(const ExpectedStatuses&) const = default;

 private:
  std::array<uint64_t, kHighest / 64 + 1> bits_{};
};

// The rule applied to one exchange (every redirect hop is one): `rule` when there is one, else 200-399. Status 0,
// a network failure without a response, is never expected.
inline bool is_expected_status(const std::optional<ExpectedStatuses>& rule, int status) {
  return rule ? rule->contains(status) : status >= 200 && status <= 399;
}

// Reads the list at stack `index` (status codes and { min =, max = } tables) into *out; nil empties *out. Raises
// a Lua error on anything lua/http.lua would not have let through.
void read_expected_statuses(lua_State* L, int index, std::optional<ExpectedStatuses>* out);

}  // namespace luaload::bindings
