// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace luaload::core {

// Parses a k6/Go duration into nanoseconds: a sequence of decimal numbers, each with an optional fraction and a
// unit ("1h30m", "1.5s", "500ms", "100us", "100µs", "10ns", "2d"), or a bare non-negative number meaning seconds
// ("2", "0.5"), as k6 accepts for its duration options. Units: ns, us, µs, μs, ms, s, m, h, d. Surrounding spaces
// are ignored. nullopt for anything else: empty input, a sign, a missing or unknown unit, a value over ~292 years.
// Fractions are computed exactly in integers ("0.1s" is exactly 100000000); digits finer than 1 ns truncate.
std::optional<int64_t> parse_duration(std::string_view text);

// Formats nanoseconds for humans: "0s", "10ns", "1.5µs", "250ms", "1.2s", "59.99s", "1m30s", "2h", "1h30m",
// "1h0m5s". Under a minute: the largest fitting unit with at most 2 decimals, trailing zeros trimmed. From a minute
// on: h/m/s components rounded to whole seconds, from the largest non-zero one down to the last non-zero one
// (zeros in between are kept, as Go does). Negative values get a leading '-'.
std::string format_duration(int64_t ns);

}  // namespace luaload::core
