// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/metrics/registry.hpp"
#include "engine/metrics/store.hpp"
#include "engine/metrics/threshold.hpp"

namespace luaload::app {

// One --out flag: "json=FILE", "csv=FILE", each optionally followed by ":aggregate=<whole seconds>" and, for csv,
// ":time_format=unix|unix_milli".
struct OutSpec {
  enum class Format { Json, Csv };
  Format format = Format::Json;
  std::string path;
  int aggregate_s = 0;  // 0: one point per sample
  bool unix_milli = false;
};
// nullopt with `error` naming the bad part ("--out: unknown output \"influx\"; expected json=FILE or csv=FILE").
std::optional<OutSpec> parse_out_spec(const std::string& text, std::string* error);

// What an output gets at the end of the run.
struct FinalResults {
  const engine::metrics::Store& store;
  const std::vector<engine::metrics::ThresholdResult>& thresholds;
  double elapsed_s;
  int64_t wall_ms;
};

// An output the run feeds at well-defined points. Main thread only; the run calls, in order:
//   open() once before the workers start (false: the run does not start, exit 104);
//   on_delta() for every worker delta merged into the store (setup, run, teardown);
//   on_tick() about once a second while the scenario runs, after the merges of that second;
//   finish() exactly once, whatever the ending (normal end, Ctrl-C, second Ctrl-C, abortOnFail, ll.abort(), a
//   setup failure): it writes the rest and publishes the file atomically (temp file + rename).
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  // True when the output needs every sample; the run then enables the workers' sample logs.
  virtual bool wants_samples() const { return false; }
  virtual bool open(std::string* error) = 0;
  virtual void on_delta(const engine::metrics::Delta& delta) {}
  virtual void on_tick(const engine::metrics::Store& store, int64_t wall_ms) {}
  // False with `error` when the file could not be written; `warning` (may stay empty) is for the user.
  virtual bool finish(const FinalResults& results, std::string* error, std::string* warning) = 0;
};

// The points outputs (--out) and the JUnit writer (--junit), from validated flags. `thresholds` maps a metric name
// to the threshold expressions configured on it, for the NDJSON "Metric" lines.
std::vector<std::unique_ptr<OutputSink>> make_output_sinks(
    const std::vector<OutSpec>& outs, const std::string& junit_path,
    const std::map<std::string, std::vector<std::string>>& thresholds);

// Samples each worker keeps per collection (about a second) for outputs that want every sample; past that they
// are dropped and counted, and the output says so at the end (use :aggregate=1s for such rates).
inline constexpr size_t kSampleLogCapacity = 200'000;

}  // namespace luaload::app
