// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/metrics/histogram.hpp"

namespace luaload::engine::output {

// Reading a --summary-export document (docs/summary-json.md) back: what the HTML report, `luaload compare` and
// `luaload trend` compute their figures from. Percentiles come from the exported histograms, so they are exact
// (to the histogram's 0.79%) for any percentile, not only the exported ones. Pure functions, any thread.

// Reads and parses a summary export; nullopt with `error` naming the file and the problem (unreadable, not JSON,
// no "metrics" object).
std::optional<nlohmann::json> load_summary(const std::string& path, std::string* error);

// A metric entry's histogram ("histogram" of a trend entry or series); nullopt when absent or malformed.
std::optional<metrics::Histogram> entry_histogram(const nlohmann::json& entry);

// "p95" -> "p(95)", "p99.9" -> "p(99.9)", "p50" -> "p(50)"; other names unchanged ("avg", "p(90)", "rate").
std::string normalize_stat(std::string_view stat);

// One statistic of a metric entry (or series): trends any trend stat (avg, min, med, max, count, p(N), pN) from
// the histogram when present, else from "values"; counters count/rate; rates rate/passes/fails; gauges
// value/min/max. nullopt when the entry does not have it.
std::optional<double> entry_stat(const nlohmann::json& entry, std::string_view stat);

// A count read from JSON as a double: negative, NaN and absurd values (beyond 2^63, where the conversion would be
// undefined) become 0.
uint64_t count_from_double(double value);

// The test's duration in seconds (state.testRunDurationMs / 1000), 0 when absent.
double run_duration_s(const nlohmann::json& summary);

// HTTP figures of one request name (the "name" tag, which defaults to the URL), merged over the other tags.
struct RequestStats {
  metrics::Histogram duration;  // http_req_duration
  uint64_t requests = 0;        // http_reqs
  uint64_t failed = 0;          // http_req_failed passes
  uint64_t failed_total = 0;    // http_req_failed samples
  double error_rate() const { return failed_total ? static_cast<double>(failed) / static_cast<double>(failed_total) : 0; }
};
// Every request name with its figures, from the "series" of http_req_duration, http_reqs and http_req_failed.
std::map<std::string, RequestStats> request_stats_by_name(const nlohmann::json& summary);

// Failed requests by cause: "error_code NNNN" for transport errors (k6 codes) or "status NNN" for HTTP errors,
// from the http_req_failed series.
std::map<std::string, uint64_t> errors_by_code(const nlohmann::json& summary);

}  // namespace luaload::engine::output
