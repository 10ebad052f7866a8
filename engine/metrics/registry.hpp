// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/metrics/metric.hpp"
#include "engine/metrics/series_table.hpp"
#include "engine/metrics/sink.hpp"

namespace luaload::engine::metrics {

// Everything a worker recorded since its previous take_delta(): plain values, safe to move to the main thread.
struct SeriesDelta {
  std::string metric;  // metric name
  Tags tags;           // sorted by key
  Sink sink;
};
// One sample as it was added, kept only while a sample log is enabled (outputs that write every point).
struct RawSample {
  MetricId metric;    // index into Delta::definitions
  uint32_t tags;      // index into Delta::sample_tags
  double value;
  int64_t time_ms;    // wall clock, Unix milliseconds
};
struct Delta {
  std::vector<MetricDef> definitions;  // every metric this worker knows (builtins included)
  std::vector<SeriesDelta> series;     // only series with samples since the last delta
  std::vector<RawSample> samples;      // in the order added; empty unless the sample log is enabled
  std::vector<Tags> sample_tags;       // the tag sets `samples` refer to
  uint64_t samples_dropped = 0;        // samples not logged because the log was full
};

// A worker's metric registry: no locks, loop thread only. Samples are folded into per-series sinks as they are
// added (never stored one by one), so memory depends on the number of series, not on the number of samples.
class Registry {
 public:
  Registry();  // the builtin metrics are defined first, with the ids in builtin.hpp

  // Defines a metric, or returns the id of an existing one with the same name and type. nullopt when the name is
  // invalid (k6's rule: ^[a-zA-Z_][a-zA-Z0-9_]{0,127}$) or already used with another type; `error` says which.
  std::optional<MetricId> define(std::string_view name, MetricType type, ValueType contains, std::string* error);
  const MetricDef& definition(MetricId id) const { return definitions_[id]; }

  // Interns a tag set (sorted by key here); the same set always yields the same id.
  TagSetId intern(Tags tags);
  const Tags& tags(TagSetId id) const { return tag_sets_[id]; }

  // The id of a defined metric, nullopt when unknown.
  std::optional<MetricId> find(std::string_view name) const;

  // Hot path. For a Rate, value != 0 counts as a pass. NaN samples are dropped (they would poison sums). Allocates
  // only on the first sample of a series (and when a trend's values leave the range its buckets cover), never
  // again after take_delta(): series are cleared in place, not removed. `metric` and `tags` must be ids this
  // registry returned (asserted in debug builds).
  void add(MetricId metric, TagSetId tags, double value);
  // A series' handle, for callers that record into the same series over and over (an HTTP request's dozen
  // samples): add_to() skips the lookup add() does. Creates the series if needed; valid for the registry's life.
  SeriesId series(MetricId metric, TagSetId tags);
  void add_to(SeriesId series, double value);

  // Copies everything recorded since the previous call into a Delta and clears it here.
  Delta take_delta();

  // Also keeps every sample (with a wall-clock timestamp) until the next take_delta(), at most `capacity` of them:
  // past that, samples are only counted as dropped, so memory stays bounded whatever the request rate. 0 (the
  // default) disables the log, and add() then costs one extra branch.
  void enable_sample_log(size_t capacity);

 private:
  void move_samples(Delta& delta);
  void log_sample(uint64_t key, double value);

  std::vector<MetricDef> definitions_;
  std::unordered_map<std::string, MetricId> by_name_;
  std::vector<Tags> tag_sets_;
  std::unordered_map<std::string, TagSetId> tag_set_ids_;  // key: canonical encoding of the sorted tags
  SeriesTable series_;                                     // key: metric << 32 | tag set
  size_t sample_capacity_ = 0;
  std::vector<RawSample> samples_;  // `tags` holds the TagSetId here; take_delta() renumbers
  uint64_t samples_dropped_ = 0;
};

}  // namespace luaload::engine::metrics
