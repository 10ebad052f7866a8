// SPDX-License-Identifier: MIT
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/metrics/metric.hpp"
#include "engine/metrics/registry.hpp"
#include "engine/metrics/sink.hpp"

namespace luaload::engine::metrics {

// The test-wide view of every metric: the main thread merges the workers' Deltas into it and the thresholds and
// outputs read it. Main thread only, no locks.
//
// Metrics are keyed by name, because each worker numbers its custom metrics in its own order. The first
// definition seen for a name wins; a later delta defining the same name differently is reported by merge() and
// its series for that name are dropped. The builtin metrics are known from construction.
class Store {
 public:
  Store();

  // Folds a worker's delta in. Returns one message per conflicting definition not reported before (every delta
  // repeats its definitions, each conflict is reported once), also remembered in conflicts().
  std::vector<std::string> merge(const Delta& delta);

  // Records a value of a gauge kept by the main thread (vus, vus_max) into its untagged series, defining the
  // gauge if the name is new. False (and nothing recorded) when the name is taken by another kind.
  bool set_gauge(std::string_view name, double value);

  // Every known metric, sorted by name, including those without samples.
  std::vector<MetricDef> metrics() const;
  const MetricDef* find(std::string_view name) const;

  // The merge of every series of `name` whose tags contain each tag of `filter` (k6 sub-metrics such as
  // http_req_duration{name:login,method:GET}); an empty sink when none matches; nullopt for an unknown metric.
  // For a gauge, the resulting "last value" is the value of the last matching series in tag order.
  std::optional<Sink> aggregate(std::string_view name, const Tags& filter = {}) const;

  // One metric's series in tag order; empty for an unknown metric. Pointers are valid until the next merge().
  struct SeriesView {
    const Tags* tags;
    const Sink* sink;
  };
  std::vector<SeriesView> series(std::string_view name) const;

  const std::vector<std::string>& conflicts() const { return conflicts_; }

  // How many distinct (metric, tag set) series the store holds: they only ever accumulate, and memory grows with
  // them (docs/metrics.md, "Tags, series and sub-metrics"). Counted as merge() creates them, so reading it is free.
  size_t series_count() const { return series_count_; }

 private:
  struct Entry {
    MetricDef def;
    std::map<Tags, Sink> series;
  };
  Entry* define(const MetricDef& def, std::vector<std::string>& conflicts);

  std::map<std::string, Entry, std::less<>> metrics_;
  std::vector<std::string> conflicts_;
  std::set<std::string> reported_;  // name + kind of each conflicting definition already reported
  size_t series_count_ = 0;
};

// True when every tag of `filter` appears, with the same value, in `tags`.
bool tags_contain(const Tags& tags, const Tags& filter);

}  // namespace luaload::engine::metrics
