// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/metrics/histogram.hpp"

namespace luaload::engine::output {

// k6's summaryTrendStats: which statistics the summaries show for trends, in order.
inline const std::vector<std::string>& default_trend_stats() {
  static const std::vector<std::string> kStats = {"avg", "min", "med", "max", "p(90)", "p(95)", "p(99)"};
  return kStats;
}

// One statistic of a trend by its k6 name: avg, min, med, max, count or p(N) with N in [0, 100] (decimals
// allowed). nullopt for any other name, which is how the CLI validates --summary-trend-stats.
std::optional<double> trend_stat(const metrics::Histogram& histogram, std::string_view stat);

}  // namespace luaload::engine::output
