// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace luaload::engine::target {

// A backend latency distribution for the /content routes.
//   "fixed:20ms"                         always 20 ms
//   "uniform:5ms-50ms"                   uniform between the bounds
//   "lognormal:median=20ms,p99=200ms"    log-normal with that median and 99th percentile
// Durations use the k6 syntax of core::parse_duration.
struct LatencySpec {
  enum class Kind { Fixed, Uniform, LogNormal };
  Kind kind = Kind::Fixed;
  int64_t a_ns = 0;  // fixed value, uniform minimum or log-normal median
  int64_t b_ns = 0;  // uniform maximum or log-normal p99 (unused for fixed)
};

// nullopt when the text is not one of the forms above, or the bounds are reversed (max < min, p99 < median).
std::optional<LatencySpec> parse_latency(std::string_view text);

// One delay drawn from the distribution, in nanoseconds, capped at kMaxLatencyNs so a heavy tail never parks a
// connection for minutes.
inline constexpr int64_t kMaxLatencyNs = 60'000'000'000;
int64_t sample_latency_ns(const LatencySpec& spec, std::mt19937_64& rng);

}  // namespace luaload::engine::target
