// SPDX-License-Identifier: MIT
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "app/output_sink.hpp"
#include "engine/output/stream_file.hpp"

namespace luaload::app {

// --out json=FILE / --out csv=FILE: k6's NDJSON or CSV, one point per sample, or with aggregate=Ns one point per
// series per N seconds. Lines are formatted into the file's buffer as deltas arrive and written in 256 KB blocks to
// a temporary file that finish() renames into place. Memory: the buffer, the pending aggregates (one sink per
// series) and the names of metrics already declared. Main thread only.
class PointsOutput final : public OutputSink {
 public:
  PointsOutput(OutSpec spec, std::map<std::string, std::vector<std::string>> thresholds);

  bool wants_samples() const override { return spec_.aggregate_s == 0; }
  bool open(std::string* error) override;
  void on_delta(const engine::metrics::Delta& delta) override;
  void on_tick(const engine::metrics::Store& store, int64_t wall_ms) override;
  bool finish(const FinalResults& results, std::string* error, std::string* warning) override;

 private:
  void declare(const engine::metrics::MetricDef& def);
  void point(const engine::metrics::MetricDef& def, int64_t time_ms, double value, const engine::metrics::Tags& tags);
  void aggregate_point(const engine::metrics::MetricDef& def, int64_t time_ms, const engine::metrics::Tags& tags,
                       const engine::metrics::Sink& sink);
  void write_gauges(const engine::metrics::Store& store, int64_t wall_ms);
  void flush_aggregates(int64_t wall_ms);

  OutSpec spec_;
  std::map<std::string, std::vector<std::string>> thresholds_;
  engine::output::StreamFile file_;
  std::set<std::string> declared_;
  std::map<std::pair<std::string, engine::metrics::Tags>, std::pair<engine::metrics::MetricDef, engine::metrics::Sink>>
      pending_;
  int ticks_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace luaload::app
