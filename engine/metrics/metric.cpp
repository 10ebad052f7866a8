// SPDX-License-Identifier: MIT
#include "engine/metrics/metric.hpp"

namespace luaload::engine::metrics {
namespace {

constexpr size_t kMaxMetricNameLength = 128;

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

}  // namespace

const char* type_name(MetricType type) {
  switch (type) {
    case MetricType::Counter: return "counter";
    case MetricType::Gauge: return "gauge";
    case MetricType::Rate: return "rate";
    case MetricType::Trend: return "trend";
  }
  return "counter";
}

const char* value_type_name(ValueType contains) {
  switch (contains) {
    case ValueType::Default: return "default";
    case ValueType::Time: return "time";
    case ValueType::Data: return "data";
  }
  return "default";
}

std::optional<MetricType> parse_type_name(std::string_view name) {
  for (MetricType t : {MetricType::Counter, MetricType::Gauge, MetricType::Rate, MetricType::Trend}) {
    if (name == type_name(t)) return t;
  }
  return std::nullopt;
}

std::optional<ValueType> parse_value_type_name(std::string_view name) {
  for (ValueType v : {ValueType::Default, ValueType::Time, ValueType::Data}) {
    if (name == value_type_name(v)) return v;
  }
  return std::nullopt;
}

bool is_valid_metric_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxMetricNameLength || !is_name_start(name[0])) return false;
  for (char c : name) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

}  // namespace luaload::engine::metrics
