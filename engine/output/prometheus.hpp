// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

#include "engine/metrics/store.hpp"

namespace luaload::engine::output {

// The store in the Prometheus text exposition format, version 0.0.4 (Content-Type
// "text/plain; version=0.0.4; charset=utf-8"). Values are cumulative since the start of the run. Every metric gets
// the prefix "luaload_" and one sample per series, its tags as labels:
//   counter  -> luaload_<name>_total (counter); data counters luaload_<name>_bytes_total
//   gauge    -> luaload_<name> (gauge)
//   rate     -> luaload_<name>_rate (gauge, the ratio), luaload_<name>_passes_total and luaload_<name>_samples_total
//   trend    -> luaload_<name>_seconds (time trends, converted from ms), luaload_<name>_bytes (data) or
//               luaload_<name>: a summary with quantile="0.5|0.9|0.95|0.99", _sum and _count
// Main thread only (reads the store).
std::string prometheus_text(const metrics::Store& store);

// A valid metric or label name: characters outside [a-zA-Z0-9_] become '_', a leading digit gets a '_' in front.
std::string prometheus_name(std::string_view name);
// A label value escaped for the text format: backslash, double quote and newline.
std::string prometheus_label_value(std::string_view value);

}  // namespace luaload::engine::output
