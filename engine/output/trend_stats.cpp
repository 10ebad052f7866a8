// SPDX-License-Identifier: MIT
#include "engine/output/trend_stats.hpp"

#include <charconv>

namespace luaload::engine::output {

std::optional<double> trend_stat(const metrics::Histogram& h, std::string_view stat) {
  if (stat == "avg") return h.mean();
  if (stat == "min") return h.min();
  if (stat == "med") return h.median();
  if (stat == "max") return h.max();
  if (stat == "count") return static_cast<double>(h.count());
  if (stat.size() < 4 || stat.substr(0, 2) != "p(" || stat.back() != ')') return std::nullopt;
  const std::string_view number = stat.substr(2, stat.size() - 3);
  double p = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), p);
  if (ec != std::errc() || end != number.data() + number.size() || !(p >= 0 && p <= 100)) return std::nullopt;
  return h.percentile(p);
}

}  // namespace luaload::engine::output
