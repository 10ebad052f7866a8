// SPDX-License-Identifier: MIT
#include "engine/metrics/format.hpp"

#include <cmath>
#include <cstdio>

namespace luaload::engine::metrics {
namespace {

std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

std::string trimmed(double value, int decimals) {
  std::string out = fixed(value, decimals);
  if (out.find('.') != std::string::npos) {
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
  }
  if (out == "-0") out = "0";
  return out;
}

std::string format_long_duration(double ms) {
  const auto total_s = static_cast<long long>(ms / 1000);
  const long long hours = total_s / 3600;
  const long long minutes = total_s / 60 % 60;
  std::string out;
  if (hours > 0) out += std::to_string(hours) + "h";
  out += std::to_string(minutes) + "m" + std::to_string(total_s % 60) + "s";
  return out;
}

}  // namespace

std::string format_time_ms(double ms) {
  if (std::isnan(ms)) return "NaN";
  if (ms < 0) return "-" + format_time_ms(-ms);
  if (ms == 0) return "0s";
  // Each unit is kept until its rounded value would read 1000 (then the next unit reads 1).
  if (ms < 0.001 && std::round(ms * 1e6) < 1000) return std::to_string(static_cast<long long>(ms * 1e6)) + "ns";
  if (ms < 1 && std::round(ms * 1e5) < 100000) return trimmed(ms * 1e3, 2) + "\xC2\xB5s";
  if (ms < 1000 && std::round(ms * 100) < 100000) return trimmed(ms, 2) + "ms";
  if (ms < 60000) return trimmed(ms / 1000, 2) + "s";
  if (std::isinf(ms)) return "+Inf";
  return format_long_duration(ms);
}

std::string format_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  if (std::isnan(bytes)) return "NaN";
  if (bytes < 0) return "-" + format_bytes(-bytes);
  if (bytes < 10) return trimmed(bytes, 2) + " B";
  int unit = 0;
  double value = bytes;
  while (value >= 999.95 && unit < 6) {
    value /= 1000;
    ++unit;
  }
  return fixed(value, value < 10 ? 1 : 0) + " " + kUnits[unit];
}

std::string format_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return trimmed(value, 6);
}

std::string format_percent(double ratio) { return fixed(ratio * 100, 2) + "%"; }

std::string format_value(double value, ValueType contains) {
  switch (contains) {
    case ValueType::Time: return format_time_ms(value);
    case ValueType::Data: return format_bytes(value);
    case ValueType::Default: return format_number(value);
  }
  return format_number(value);
}

}  // namespace luaload::engine::metrics
