// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace luaload::engine::metrics {

// k6's four metric kinds and what their values contain.
enum class MetricType { Counter, Gauge, Rate, Trend };
enum class ValueType { Default, Time, Data };  // Time values are milliseconds; Data values are bytes

using MetricId = uint32_t;
using TagSetId = uint32_t;
using Tag = std::pair<std::string, std::string>;
using Tags = std::vector<Tag>;  // sorted by key, keys unique, once interned

struct MetricDef {
  std::string name;
  MetricType type = MetricType::Counter;
  ValueType contains = ValueType::Default;
};

}  // namespace luaload::engine::metrics
