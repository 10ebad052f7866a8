// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <vector>

#include "engine/metrics/store.hpp"
#include "engine/metrics/threshold.hpp"
#include "engine/output/trend_stats.hpp"

namespace luaload::engine::output {

struct SummaryOptions {
  bool color = false;  // ANSI colours; pass color_allowed(flag) to honour NO_COLOR
  std::vector<std::string> trend_stats = default_trend_stats();  // validated with trend_stat() by the caller
};

// False when the NO_COLOR environment variable is set to a non-empty value (https://no-color.org), else
// `requested`.
bool color_allowed(bool requested);

// The end-of-test summary, like k6's: a THRESHOLDS section (each threshold under its selector, ✓/✗, the
// expression and the observed value), a CHECKS section (✓ for checks that always passed, ✗ with pass/fail counts
// otherwise), then METRICS: every metric with samples, alphabetically, names padded with dots, each kind with its
// k6 columns (trends: the trend stats; rates: "12.34% ✓ 123 ✗ 456"; counters: "count rate/s", data counters in
// kB/MB; gauges: "value min=… max=…"), and under a metric the sub-metrics that have thresholds. Sections without
// content are left out. `elapsed_s` is the test duration, for counters' per-second rates. Main thread only.
std::string render_summary(const metrics::Store& store, const std::vector<metrics::ThresholdResult>& thresholds,
                           double elapsed_s, const SummaryOptions& options);

// "{ method:GET, name:login }", how k6 labels a sub-metric.
std::string submetric_label(const metrics::Tags& filter);

}  // namespace luaload::engine::output
