// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <variant>

#include "engine/metrics/histogram.hpp"
#include "engine/metrics/metric.hpp"

namespace luaload::engine::metrics {

// What one series of each metric kind keeps (k6 metrics/sink.go, minus the sample vector).
struct CounterSink {
  double sum = 0;      // k6's "count" of a counter is the sum of its values
  uint64_t count = 0;  // number of samples
};
struct GaugeSink {
  double value = 0;  // the last value added (or merged in)
  double min = 0;
  double max = 0;
  uint64_t count = 0;
};
struct RateSink {
  uint64_t passes = 0;  // samples != 0
  uint64_t total = 0;
  double rate() const { return total ? static_cast<double>(passes) / static_cast<double>(total) : 0; }
  uint64_t fails() const { return total - passes; }
};
using TrendSink = Histogram;

// One series' aggregate. Plain value: copyable and movable across threads once its owner lets go of it.
class Sink {
 public:
  explicit Sink(MetricType type = MetricType::Counter);

  MetricType type() const { return type_; }
  void add(double value) {
    switch (type_) {
      case MetricType::Counter: add_counter(value); return;
      case MetricType::Gauge: add_gauge(value); return;
      case MetricType::Rate: add_rate(value); return;
      case MetricType::Trend: std::get<TrendSink>(data_).add(value); return;
    }
  }
  // Folds `other` (same type: checked) in. For a gauge, `other` is taken as the more recent: its last value wins.
  void merge(const Sink& other);
  // Forgets the samples, keeps the type and any allocated memory.
  void clear();
  // True when no sample was added or merged in since construction or clear().
  bool empty() const;

  const CounterSink& counter() const { return std::get<CounterSink>(data_); }
  const GaugeSink& gauge() const { return std::get<GaugeSink>(data_); }
  const RateSink& rate() const { return std::get<RateSink>(data_); }
  const TrendSink& trend() const { return std::get<TrendSink>(data_); }
  CounterSink& counter() { return std::get<CounterSink>(data_); }
  GaugeSink& gauge() { return std::get<GaugeSink>(data_); }
  RateSink& rate() { return std::get<RateSink>(data_); }
  TrendSink& trend() { return std::get<TrendSink>(data_); }

 private:
  void add_counter(double value) {
    auto& c = std::get<CounterSink>(data_);
    c.sum += value;
    ++c.count;
  }
  void add_gauge(double value);
  void add_rate(double value) {
    auto& r = std::get<RateSink>(data_);
    r.passes += value != 0;
    ++r.total;
  }

  MetricType type_;
  std::variant<CounterSink, GaugeSink, RateSink, TrendSink> data_;
};

}  // namespace luaload::engine::metrics
