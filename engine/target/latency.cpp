// SPDX-License-Identifier: MIT
#include "engine/target/latency.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "engine/core/duration.hpp"

namespace luaload::engine::target {
namespace {

// z-score of the 99th percentile of the standard normal distribution.
constexpr double kZ99 = 2.3263478740408408;

std::optional<LatencySpec> parse_uniform(std::string_view args) {
  size_t dash = args.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto lo = core::parse_duration(args.substr(0, dash));
  auto hi = core::parse_duration(args.substr(dash + 1));
  if (!lo || !hi || *hi < *lo) return std::nullopt;
  return LatencySpec{LatencySpec::Kind::Uniform, *lo, *hi};
}

std::optional<LatencySpec> parse_lognormal(std::string_view args) {
  std::optional<int64_t> median, p99;
  while (!args.empty()) {
    size_t comma = args.find(',');
    std::string_view item = args.substr(0, comma);
    args = comma == std::string_view::npos ? std::string_view{} : args.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view key = item.substr(0, eq);
    auto value = core::parse_duration(item.substr(eq + 1));
    if (!value) return std::nullopt;
    if (key == "median") {
      median = value;
    } else if (key == "p99") {
      p99 = value;
    } else {
      return std::nullopt;
    }
  }
  if (!median || !p99 || *median <= 0 || *p99 < *median) return std::nullopt;
  return LatencySpec{LatencySpec::Kind::LogNormal, *median, *p99};
}

}  // namespace

std::optional<LatencySpec> parse_latency(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view kind = text.substr(0, colon);
  std::string_view args = text.substr(colon + 1);
  if (kind == "fixed") {
    auto value = core::parse_duration(args);
    if (!value) return std::nullopt;
    return LatencySpec{LatencySpec::Kind::Fixed, *value, 0};
  }
  if (kind == "uniform") return parse_uniform(args);
  if (kind == "lognormal") return parse_lognormal(args);
  return std::nullopt;
}

int64_t sample_latency_ns(const LatencySpec& spec, std::mt19937_64& rng) {
  double ns = 0;
  switch (spec.kind) {
    case LatencySpec::Kind::Fixed:
      ns = static_cast<double>(spec.a_ns);
      break;
    case LatencySpec::Kind::Uniform:
      ns = std::uniform_real_distribution<double>(static_cast<double>(spec.a_ns), static_cast<double>(spec.b_ns))(rng);
      break;
    case LatencySpec::Kind::LogNormal: {
      double mu = std::log(static_cast<double>(spec.a_ns));
      double sigma = (std::log(static_cast<double>(spec.b_ns)) - mu) / kZ99;
      ns = std::lognormal_distribution<double>(mu, sigma)(rng);
      break;
    }
  }
  return std::clamp<int64_t>(static_cast<int64_t>(ns), 0, kMaxLatencyNs);
}

}  // namespace luaload::engine::target
