// SPDX-License-Identifier: MIT
#include "engine/output/timeline.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace luaload::engine::output {
namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Percentiles of two merged intervals are not recoverable from theirs; the larger one is a safe upper bound.
double larger(double a, double b) {
  if (std::isnan(a)) return b;
  if (std::isnan(b)) return a;
  return std::max(a, b);
}

TimePoint merged(const TimePoint& a, const TimePoint& b) {
  TimePoint m;
  m.t_s = b.t_s;
  m.interval_s = a.interval_s + b.interval_s;
  m.requests = a.requests + b.requests;
  m.rps = m.interval_s > 0 ? static_cast<double>(m.requests) / m.interval_s : 0;
  m.p50 = larger(a.p50, b.p50);
  m.p95 = larger(a.p95, b.p95);
  m.p99 = larger(a.p99, b.p99);
  m.vus = b.vus;
  const double failed =
      a.error_rate * static_cast<double>(a.requests) + b.error_rate * static_cast<double>(b.requests);
  m.error_rate = m.requests ? failed / static_cast<double>(m.requests) : 0;
  return m;
}

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

double number_or_nan(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : kNaN;
}

}  // namespace

void Timeline::add(const metrics::Delta& delta) {
  for (const auto& s : delta.series) {
    if (s.metric == "http_reqs" && s.sink.type() == metrics::MetricType::Counter) {
      requests_ += s.sink.counter().count;
    } else if (s.metric == "http_req_duration" && s.sink.type() == metrics::MetricType::Trend) {
      durations_.merge(s.sink.trend());
    } else if (s.metric == "http_req_failed" && s.sink.type() == metrics::MetricType::Rate) {
      failed_ += s.sink.rate().passes;
      failed_total_ += s.sink.rate().total;
    }
  }
}

void Timeline::close_interval(double t_s, double vus, bool final) {
  const double length = t_s - last_t_s_;
  // Ticks jitter by a few milliseconds; 0.9 keeps a 1 s resolution at one point per tick. The last interval of a
  // run may be short, but one too short would show a meaningless req/s spike.
  // A run shorter than one interval still gets its one point.
  const double shortest = final ? (points_.empty() ? 1e-9 : resolution_s_ * 0.25) : resolution_s_ * 0.9;
  if (length < shortest) return;
  TimePoint p;
  p.t_s = t_s;
  p.interval_s = length;
  p.requests = requests_;
  p.rps = static_cast<double>(requests_) / length;
  const bool any = !durations_.empty();
  p.p50 = any ? durations_.percentile(50) : kNaN;
  p.p95 = any ? durations_.percentile(95) : kNaN;
  p.p99 = any ? durations_.percentile(99) : kNaN;
  p.vus = vus;
  p.error_rate = failed_total_ ? static_cast<double>(failed_) / static_cast<double>(failed_total_) : 0;
  points_.push_back(p);
  durations_.clear();
  requests_ = failed_ = failed_total_ = 0;
  last_t_s_ = t_s;
  if (points_.size() >= kMaxPoints) compact();
}

void Timeline::compact() {
  std::vector<TimePoint> out;
  out.reserve(points_.size() / 2 + 1);
  for (size_t i = 0; i + 1 < points_.size(); i += 2) out.push_back(merged(points_[i], points_[i + 1]));
  if (points_.size() % 2) out.push_back(points_.back());
  points_ = std::move(out);
  resolution_s_ *= 2;
}

json time_series_json(const std::vector<TimePoint>& points) {
  json out = json::array();
  for (const TimePoint& p : points) {
    out.push_back({{"t", p.t_s},
                   {"interval", p.interval_s},
                   {"http_reqs", p.requests},
                   {"rps", p.rps},
                   {"p50", number_or_null(p.p50)},
                   {"p95", number_or_null(p.p95)},
                   {"p99", number_or_null(p.p99)},
                   {"vus", p.vus},
                   {"error_rate", p.error_rate}});
  }
  return out;
}

std::vector<TimePoint> time_series_from_json(const json& j) {
  std::vector<TimePoint> out;
  if (!j.is_array()) return out;
  for (const json& item : j) {
    if (!item.is_object() || !item.contains("t") || !item["t"].is_number()) continue;
    TimePoint p;
    p.t_s = item["t"].get<double>();
    p.interval_s = std::isnan(number_or_nan(item, "interval")) ? 0 : number_or_nan(item, "interval");
    const double requests = number_or_nan(item, "http_reqs");
    p.requests = requests > 0 && requests < 9.2e18 ? static_cast<uint64_t>(requests) : 0;
    p.rps = number_or_nan(item, "rps");
    p.p50 = number_or_nan(item, "p50");
    p.p95 = number_or_nan(item, "p95");
    p.p99 = number_or_nan(item, "p99");
    p.vus = number_or_nan(item, "vus");
    p.error_rate = number_or_nan(item, "error_rate");
    out.push_back(p);
  }
  return out;
}

}  // namespace luaload::engine::output
