// SPDX-License-Identifier: MIT
#pragma once

#include <string>

#include "engine/metrics/metric.hpp"

namespace luaload::engine::metrics {

// How k6's summary writes values, shared by threshold texts and the outputs. Pure functions, any thread.

// Milliseconds as k6 writes durations: "0s", "850ns", "512.5µs", "1.23ms", "1.2s", "59.99s", "1m30s", "1h2m3s".
// Below a minute, 2 decimals at most (trailing zeros trimmed); from a minute on, whole seconds (truncated).
std::string format_time_ms(double ms);
// Bytes with SI units (base 1000) as k6 writes them: "9 B", "50 kB", "1.2 MB", "12 MB".
std::string format_bytes(double bytes);
// A plain number: up to 6 decimals, trailing zeros trimmed ("50", "4.979114", "0.5").
std::string format_number(double value);
// A ratio as a percentage with 2 decimals: 0.1234 -> "12.34%".
std::string format_percent(double ratio);
// Dispatches on the metric's value type: Time -> format_time_ms, Data -> format_bytes, else format_number.
std::string format_value(double value, ValueType contains);

}  // namespace luaload::engine::metrics
