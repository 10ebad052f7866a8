// SPDX-License-Identifier: MIT
#include "app/points_output.hpp"

#include "engine/output/points.hpp"

namespace luaload::app {

namespace metrics = engine::metrics;
namespace output = engine::output;

namespace {

// Gauges the main thread keeps itself (they never travel in a worker delta).
constexpr const char* kMainThreadGauges[] = {"vus", "vus_max"};

}  // namespace

PointsOutput::PointsOutput(OutSpec spec, std::map<std::string, std::vector<std::string>> thresholds)
    : spec_(std::move(spec)), thresholds_(std::move(thresholds)) {}

bool PointsOutput::open(std::string* error) {
  if (!file_.open(spec_.path, error)) return false;
  if (spec_.format == OutSpec::Format::Csv) output::append_csv_header(file_.buffer());
  return true;
}

void PointsOutput::declare(const metrics::MetricDef& def) {
  // k6 declares each metric with a Metric line before its first point; CSV has no such line.
  if (spec_.format != OutSpec::Format::Json || !declared_.insert(def.name).second) return;
  static const std::vector<std::string> kNone;
  auto it = thresholds_.find(def.name);
  output::append_ndjson_metric(file_.buffer(), def, it == thresholds_.end() ? kNone : it->second);
}

void PointsOutput::point(const metrics::MetricDef& def, int64_t time_ms, double value, const metrics::Tags& tags) {
  declare(def);
  if (spec_.format == OutSpec::Format::Json) {
    output::append_ndjson_point(file_.buffer(), def.name, time_ms, value, tags);
  } else {
    output::append_csv_row(file_.buffer(), def.name, time_ms, value, tags, spec_.unix_milli);
  }
  file_.maybe_flush();
}

void PointsOutput::aggregate_point(const metrics::MetricDef& def, int64_t time_ms, const metrics::Tags& tags,
                                   const metrics::Sink& sink) {
  if (spec_.format == OutSpec::Format::Csv) {
    point(def, time_ms, output::representative_value(sink), tags);
    return;
  }
  declare(def);
  output::append_ndjson_aggregate(file_.buffer(), def.name, time_ms, tags, sink);
  file_.maybe_flush();
}

void PointsOutput::on_delta(const metrics::Delta& delta) {
  dropped_ += delta.samples_dropped;
  if (spec_.aggregate_s == 0) {
    for (const metrics::RawSample& s : delta.samples) {
      point(delta.definitions[s.metric], s.time_ms, s.value, delta.sample_tags[s.tags]);
    }
    return;
  }
  for (const auto& series : delta.series) {
    auto def = std::find_if(delta.definitions.begin(), delta.definitions.end(),
                            [&](const metrics::MetricDef& d) { return d.name == series.metric; });
    if (def == delta.definitions.end()) continue;
    auto [it, inserted] = pending_.try_emplace({series.metric, series.tags}, *def, metrics::Sink(def->type));
    if (it->second.first.type == series.sink.type()) it->second.second.merge(series.sink);
  }
}

void PointsOutput::write_gauges(const metrics::Store& store, int64_t wall_ms) {
  for (const char* name : kMainThreadGauges) {
    const metrics::MetricDef* def = store.find(name);
    auto sink = store.aggregate(name);
    if (!def || !sink || sink->empty()) continue;
    point(*def, wall_ms, sink->gauge().value, {});
  }
}

void PointsOutput::flush_aggregates(int64_t wall_ms) {
  for (const auto& [key, entry] : pending_) aggregate_point(entry.first, wall_ms, key.second, entry.second);
  pending_.clear();
}

void PointsOutput::on_tick(const metrics::Store& store, int64_t wall_ms) {
  write_gauges(store, wall_ms);
  if (spec_.aggregate_s > 0 && ++ticks_ % spec_.aggregate_s == 0) flush_aggregates(wall_ms);
}

bool PointsOutput::finish(const FinalResults& results, std::string* error, std::string* warning) {
  flush_aggregates(results.wall_ms);
  write_gauges(results.store, results.wall_ms);
  if (dropped_ > 0 && warning) {
    *warning = spec_.path + ": " + std::to_string(dropped_) + " samples were not written (more than " +
               std::to_string(kSampleLogCapacity) + " per worker per second); use :aggregate=1s at such rates";
  }
  return file_.commit(error);
}

}  // namespace luaload::app
