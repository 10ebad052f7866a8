// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/metrics/store.hpp"
#include "engine/metrics/threshold.hpp"
#include "engine/output/timeline.hpp"
#include "engine/output/trend_stats.hpp"

namespace luaload::engine::output {

struct SummaryJsonOptions {
  std::vector<std::string> trend_stats = default_trend_stats();
  bool include_series = true;      // luaload extension: per-series breakdown
  bool include_histograms = true;  // luaload extension: every trend's buckets
  // luaload extension: the per-interval series ("time_series"), left out when null. Not owned.
  const std::vector<TimePoint>* time_series = nullptr;
  // luaload extension: the run's settings ("run": script, start time, version, options), left out when null.
  nlohmann::json run = nullptr;
};

// The --summary-export document, schema in docs/summary-json.md: k6's handleSummary() data shape ("metrics",
// "root_group", "state", "options") plus luaload extensions ("series", "histogram" per metric). Metrics with
// samples or thresholds are included; sub-metrics with thresholds appear as "metric{tag:value}" entries as k6
// does. Main thread only.
nlohmann::json summary_json(const metrics::Store& store, const std::vector<metrics::ThresholdResult>& thresholds,
                            double elapsed_s, const SummaryJsonOptions& options);

// Writes `content` to `path` atomically: a temporary file in the same directory, flushed, then renamed over
// `path`, so readers see the old file or the whole new one. False with `error` naming the path and the cause.
bool write_file_atomically(const std::string& path, const std::string& content, std::string* error);

}  // namespace luaload::engine::output
