// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace luaload::engine::output {

// `--history DIR` and `luaload trend DIR` (docs/outputs.md): one summary export per run in a directory, named by
// the run's start time so that names sort in time order, and metrics charted across them. Main thread only (the
// file functions do blocking I/O and are meant for the start or end of a command, not a running test).

// "2026-11-24T20-37-05Z.json": the start time in UTC, with '-' for ':' so that the name is valid everywhere.
std::string history_file_name(int64_t start_unix_ms);

// Writes `content` into `dir` (created when missing) as history_file_name(start_unix_ms), or with "-2", "-3"...
// before ".json" when that name is taken; atomically. The path written, or nullopt with `error` set.
std::optional<std::string> write_history_entry(const std::string& dir, int64_t start_unix_ms,
                                               const std::string& content, std::string* error);

struct HistoryRun {
  std::string id;  // the file name without ".json"
  nlohmann::json summary;
};
// Every "*.json" summary export in `dir`, sorted by file name; files that are not summary exports are skipped
// and named in `skipped`. nullopt with `error` when `dir` cannot be listed.
std::optional<std::vector<HistoryRun>> load_history(const std::string& dir, std::vector<std::string>* skipped,
                                                    std::string* error);

// A figure charted across runs: "http_req_duration:p95", "http_reqs:rate", "http_req_failed:rate", "checks:rate",
// "my_trend:p(99.9)". METRIC is a key of the export's "metrics" (sub-metric keys such as
// "http_req_duration{name:login}" included); STAT any stat entry_stat() knows.
struct TrendMetric {
  std::string metric;
  std::string stat;
  std::string label() const { return metric + ":" + stat; }
};
std::optional<TrendMetric> parse_trend_metric(std::string_view text, std::string* error);
// p95 latency, req/s and error rate: what `luaload trend` charts without --metric.
std::vector<TrendMetric> default_trend_metrics();

// The figure in one summary; nullopt when that run does not have it.
std::optional<double> trend_value(const nlohmann::json& summary, const TrendMetric& metric);

// One row per run, one column per metric, each followed by the change from the previous run.
std::string format_trend_table(const std::vector<HistoryRun>& runs, const std::vector<TrendMetric>& metrics);
// A self-contained HTML page with one line chart per metric (x: the runs in order) and the same table.
std::string render_trend_html(const std::vector<HistoryRun>& runs, const std::vector<TrendMetric>& metrics);

}  // namespace luaload::engine::output
