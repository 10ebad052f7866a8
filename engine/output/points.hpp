// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/metrics/metric.hpp"
#include "engine/metrics/sink.hpp"

namespace luaload::engine::output {

// Line formats of the streaming outputs (--out json=..., --out csv=...). Pure functions, any thread; every
// function appends to `out` so a writer can fill one buffer without temporaries.

// Unix milliseconds as RFC 3339 in UTC with milliseconds: "2026-11-24T20:37:01.123Z".
std::string format_rfc3339_ms(int64_t unix_ms);

// A JSON number in its shortest round-trip form; non-finite values become null (JSON has no Inf/NaN).
void append_json_number(std::string& out, double value);
// A JSON string literal, quotes included; control characters escaped, each byte that is not well-formed UTF-8
// (utf8_sequence_length) replaced by U+FFFD.
void append_json_string(std::string& out, std::string_view text);

// k6's NDJSON lines. Metric: {"type":"Metric","data":{"name":..,"type":..,"contains":..,"thresholds":[..],
// "submetrics":null},"metric":..}. Point: {"type":"Point","data":{"time":..,"value":..,"tags":{..}|null},
// "metric":..}. Each line ends with '\n'.
void append_ndjson_metric(std::string& out, const metrics::MetricDef& def, const std::vector<std::string>& thresholds);
void append_ndjson_point(std::string& out, std::string_view metric, int64_t time_ms, double value,
                         const metrics::Tags& tags);

// The aggregated form (aggregate=1s): a Point whose value is the interval's representative value (counter: sum,
// gauge: last value, rate: ratio, trend: average) and whose data carries an "aggregate" object with the interval's
// statistics (counter: count, sum; gauge: value, min, max; rate: passes, fails, rate; trend: count, sum, min, max,
// avg, p(50), p(90), p(95), p(99)).
void append_ndjson_aggregate(std::string& out, std::string_view metric, int64_t time_ms, const metrics::Tags& tags,
                             const metrics::Sink& sink);
double representative_value(const metrics::Sink& sink);

// k6's CSV columns, in order, and one row per point. Tags with a column of their own go there; the others go to
// extra_tags as "key=value&key=value"; metadata stays empty. `time_format` "unix" (seconds, k6's default) or
// "unix_milli".
const std::vector<std::string>& csv_columns();
void append_csv_header(std::string& out);
void append_csv_row(std::string& out, std::string_view metric, int64_t time_ms, double value,
                    const metrics::Tags& tags, bool unix_milli);
// One CSV field, quoted (RFC 4180) only when it contains a comma, a quote, CR or LF.
void append_csv_field(std::string& out, std::string_view field);

}  // namespace luaload::engine::output
