// SPDX-License-Identifier: MIT
#include "engine/core/duration.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

namespace luaload::core {
namespace {

constexpr int64_t kNanosecond = 1;
constexpr int64_t kMicrosecond = 1000 * kNanosecond;
constexpr int64_t kMillisecond = 1000 * kMicrosecond;
constexpr int64_t kSecond = 1000 * kMillisecond;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int kMaxFractionDigits = 18;  // finer digits cannot change a nanosecond count and are truncated
using Wide = __int128;
constexpr Wide kMaxNs = std::numeric_limits<int64_t>::max();

struct Number {
  Wide whole = 0;
  Wide fraction = 0;  // the first `scale` fraction digits as an integer
  Wide scale = 1;     // 10^(number of fraction digits kept)
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads `digits[.digits]` (at least one digit overall) at `pos`; false when there is no number there or its whole
// part alone cannot fit a duration.
bool read_number(std::string_view s, size_t& pos, Number& out) {
  size_t digits = 0;
  while (pos < s.size() && is_digit(s[pos])) {
    out.whole = out.whole * 10 + (s[pos++] - '0');
    if (out.whole > kMaxNs) return false;
    ++digits;
  }
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int kept = 0;
    while (pos < s.size() && is_digit(s[pos])) {
      if (kept < kMaxFractionDigits) {
        out.fraction = out.fraction * 10 + (s[pos] - '0');
        out.scale *= 10;
        ++kept;
      }
      ++pos;
      ++digits;
    }
  }
  return digits > 0;
}

// Reads a unit at `pos`, longest match first so that "ms" is not taken for "m" followed by garbage.
int64_t read_unit(std::string_view s, size_t& pos) {
  struct Unit {
    std::string_view text;
    int64_t ns;
  };
  static constexpr Unit kUnits[] = {
      {"ns", kNanosecond}, {"us", kMicrosecond}, {"\xC2\xB5s", kMicrosecond}, {"\xCE\xBCs", kMicrosecond},
      {"ms", kMillisecond}, {"s", kSecond},      {"m", kMinute},                {"h", kHour},
      {"d", kDay},
  };
  for (const Unit& unit : kUnits) {
    if (s.substr(pos, unit.text.size()) == unit.text) {
      pos += unit.text.size();
      return unit.ns;
    }
  }
  return 0;
}

Wide scaled(const Number& n, int64_t unit) { return n.whole * unit + n.fraction * unit / n.scale; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Formats `value` with at most `decimals` decimals, trailing zeros (and a trailing point) removed.
std::string trimmed_fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  std::string out(buf);
  if (out.find('.') != std::string::npos) {
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
  }
  return out;
}

std::string format_sub_minute(int64_t ns) {
  struct Scale {
    int64_t unit;
    const char* suffix;
  };
  static constexpr Scale kScales[] = {{kSecond, "s"}, {kMillisecond, "ms"}, {kMicrosecond, "\xC2\xB5s"}};
  // The unit is chosen on the rounded value, so that 999.999ms is written "1s", not "1000ms".
  for (const Scale& scale : kScales) {
    const double value = static_cast<double>(ns) / static_cast<double>(scale.unit);
    if (std::round(value * 100) >= 100) return trimmed_fixed(value, 2) + scale.suffix;
  }
  return std::to_string(ns) + "ns";
}

std::string format_components(int64_t ns) {
  const int64_t total_s = (ns + kSecond / 2) / kSecond;
  const int64_t parts[] = {total_s / 3600, total_s / 60 % 60, total_s % 60};
  static constexpr const char* kSuffixes[] = {"h", "m", "s"};
  int first = 0;
  while (first < 2 && parts[first] == 0) ++first;
  int last = 2;
  while (last > first && parts[last] == 0) --last;
  std::string out;
  for (int i = first; i <= last; ++i) out += std::to_string(parts[i]) + kSuffixes[i];
  return out;
}

}  // namespace

std::optional<int64_t> parse_duration(std::string_view text) {
  const std::string_view s = trim(text);
  if (s.empty()) return std::nullopt;
  size_t pos = 0;
  Wide total = 0;
  bool first = true;
  while (pos < s.size()) {
    Number number;
    if (!read_number(s, pos, number)) return std::nullopt;
    int64_t unit = read_unit(s, pos);
    if (unit == 0) {
      // A bare number is k6's shorthand for seconds, only as the whole input ("2", "0.5"), never as "1m30".
      if (!(first && pos == s.size())) return std::nullopt;
      unit = kSecond;
    }
    total += scaled(number, unit);
    if (total > kMaxNs) return std::nullopt;
    first = false;
  }
  return static_cast<int64_t>(total);
}

std::string format_duration(int64_t ns) {
  if (ns == 0) return "0s";
  if (ns < 0) {
    // The most negative value has no positive twin; one nanosecond less is invisible at this precision.
    return "-" + format_duration(ns == std::numeric_limits<int64_t>::min() ? std::numeric_limits<int64_t>::max() : -ns);
  }
  // Values that would round up to "60s" are written as a minute.
  if (ns < kMinute - 5 * kMillisecond) return format_sub_minute(ns);
  return format_components(ns);
}

}  // namespace luaload::core
