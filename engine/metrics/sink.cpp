// SPDX-License-Identifier: MIT
#include "engine/metrics/sink.hpp"

#include <algorithm>

#include "engine/core/assert.hpp"

namespace luaload::engine::metrics {
namespace {

std::variant<CounterSink, GaugeSink, RateSink, TrendSink> make_data(MetricType type) {
  switch (type) {
    case MetricType::Counter: return CounterSink{};
    case MetricType::Gauge: return GaugeSink{};
    case MetricType::Rate: return RateSink{};
    case MetricType::Trend: return TrendSink{};
  }
  return CounterSink{};
}

void merge_gauge(GaugeSink& into, const GaugeSink& from) {
  if (from.count == 0) return;
  if (into.count == 0) {
    into = from;
    return;
  }
  into.value = from.value;
  into.min = std::min(into.min, from.min);
  into.max = std::max(into.max, from.max);
  into.count += from.count;
}

}  // namespace

Sink::Sink(MetricType type) : type_(type), data_(make_data(type)) {}

void Sink::add_gauge(double value) {
  auto& g = std::get<GaugeSink>(data_);
  if (g.count == 0) {
    g.min = g.max = value;
  } else {
    g.min = std::min(g.min, value);
    g.max = std::max(g.max, value);
  }
  g.value = value;
  ++g.count;
}

void Sink::merge(const Sink& other) {
  LUALOAD_CHECK(other.type_ == type_, "merging sinks of different metric types");
  switch (type_) {
    case MetricType::Counter:
      counter().sum += other.counter().sum;
      counter().count += other.counter().count;
      return;
    case MetricType::Gauge: merge_gauge(gauge(), other.gauge()); return;
    case MetricType::Rate:
      rate().passes += other.rate().passes;
      rate().total += other.rate().total;
      return;
    case MetricType::Trend: trend().merge(other.trend()); return;
  }
}

void Sink::clear() {
  switch (type_) {
    case MetricType::Counter: counter() = {}; return;
    case MetricType::Gauge: gauge() = {}; return;
    case MetricType::Rate: rate() = {}; return;
    case MetricType::Trend: trend().clear(); return;
  }
}

bool Sink::empty() const {
  switch (type_) {
    case MetricType::Counter: return counter().count == 0;
    case MetricType::Gauge: return gauge().count == 0;
    case MetricType::Rate: return rate().total == 0;
    case MetricType::Trend: return trend().empty();
  }
  return true;
}

}  // namespace luaload::engine::metrics
