// SPDX-License-Identifier: MIT
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/metrics/histogram.hpp"

namespace luaload::engine::output {

// A trend's full histogram in the mergeable form documented in docs/summary-json.md:
//   {"scheme": "log2-linear-64", "count": N, "sum": S, "min": A, "max": B, "zero": Z,
//    "positive": [[key, count], ...], "negative": [[key, count], ...]}
// Keys follow metrics::Histogram's scheme, so two exports merge by adding counts key by key.
nlohmann::json histogram_to_json(const metrics::Histogram& histogram);

// The inverse; nullopt with `error` set when the scheme is another one or the parts are inconsistent.
std::optional<metrics::Histogram> histogram_from_json(const nlohmann::json& json, std::string* error);

inline constexpr const char* kHistogramScheme = "log2-linear-64";

}  // namespace luaload::engine::output
