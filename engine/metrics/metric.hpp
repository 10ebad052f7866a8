// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace luaload::engine::metrics {

// k6's four metric kinds and what their values contain.
enum class MetricType { Counter, Gauge, Rate, Trend };
enum class ValueType { Default, Time, Data };  // Time values are milliseconds; Data values are bytes

using MetricId = uint32_t;
using TagSetId = uint32_t;
using SeriesId = uint32_t;
using Tag = std::pair<std::string, std::string>;
using Tags = std::vector<Tag>;  // sorted by key, keys unique, once interned

struct MetricDef {
  std::string name;
  MetricType type = MetricType::Counter;
  ValueType contains = ValueType::Default;
  bool operator==(const MetricDef&) const = default;
};

// k6's lowercase names: "counter", "gauge", "rate", "trend"; "default", "time", "data".
const char* type_name(MetricType type);
const char* value_type_name(ValueType contains);
std::optional<MetricType> parse_type_name(std::string_view name);
std::optional<ValueType> parse_value_type_name(std::string_view name);

// k6's rule for metric names: ^[a-zA-Z_][a-zA-Z0-9_]{0,127}$.
bool is_valid_metric_name(std::string_view name);

}  // namespace luaload::engine::metrics
