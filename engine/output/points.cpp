// SPDX-License-Identifier: MIT
#include "engine/output/points.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "engine/metrics/metric.hpp"
#include "engine/output/utf8.hpp"

namespace luaload::engine::output {
namespace {

using metrics::MetricType;

void append_trend_stats(std::string& out, const metrics::Histogram& h) {
  out += "\"count\":";
  out += std::to_string(h.count());
  const std::pair<const char*, double> stats[] = {{"sum", h.sum()},
                                                  {"min", h.min()},
                                                  {"max", h.max()},
                                                  {"avg", h.mean()},
                                                  {"p(50)", h.percentile(50)},
                                                  {"p(90)", h.percentile(90)},
                                                  {"p(95)", h.percentile(95)},
                                                  {"p(99)", h.percentile(99)}};
  for (const auto& [name, value] : stats) {
    out += ",\"";
    out += name;
    out += "\":";
    append_json_number(out, value);
  }
}

void append_aggregate_stats(std::string& out, const metrics::Sink& sink) {
  auto field = [&out](const char* name, double value, bool first = false) {
    if (!first) out += ',';
    out += '"';
    out += name;
    out += "\":";
    append_json_number(out, value);
  };
  switch (sink.type()) {
    case MetricType::Counter:
      field("count", static_cast<double>(sink.counter().count), true);
      field("sum", sink.counter().sum);
      return;
    case MetricType::Gauge:
      field("value", sink.gauge().value, true);
      field("min", sink.gauge().min);
      field("max", sink.gauge().max);
      return;
    case MetricType::Rate:
      field("passes", static_cast<double>(sink.rate().passes), true);
      field("fails", static_cast<double>(sink.rate().fails()));
      field("rate", sink.rate().rate());
      return;
    case MetricType::Trend:
      append_trend_stats(out, sink.trend());
      return;
  }
}

void append_tags_object(std::string& out, const metrics::Tags& tags) {
  if (tags.empty()) {
    out += "null";
    return;
  }
  out += '{';
  for (size_t i = 0; i < tags.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, tags[i].first);
    out += ':';
    append_json_string(out, tags[i].second);
  }
  out += '}';
}

void append_point_head(std::string& out, int64_t time_ms, double value, const metrics::Tags& tags) {
  out += R"({"type":"Point","data":{"time":")";
  out += format_rfc3339_ms(time_ms);
  out += R"(","value":)";
  append_json_number(out, value);
  out += R"(,"tags":)";
  append_tags_object(out, tags);
}

void append_point_tail(std::string& out, std::string_view metric) {
  out += R"(},"metric":)";
  append_json_string(out, metric);
  out += "}\n";
}

}  // namespace

std::string format_rfc3339_ms(int64_t unix_ms) {
  const int64_t seconds = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
  const int64_t millis = unix_ms - seconds * 1000;
  const time_t t = static_cast<time_t>(seconds);
  tm utc{};
  gmtime_r(&t, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(millis));
  return text;
}

void append_json_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char text[32];
  auto result = std::to_chars(text, text + sizeof text, value);
  out.append(text, result.ptr);
}

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    const size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      out += kReplacementCharacter;
      ++i;
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  out += '"';
}

void append_ndjson_metric(std::string& out, const metrics::MetricDef& def, const std::vector<std::string>& thresholds) {
  out += R"({"type":"Metric","data":{"name":)";
  append_json_string(out, def.name);
  out += R"(,"type":")";
  out += metrics::type_name(def.type);
  out += R"(","contains":")";
  out += metrics::value_type_name(def.contains);
  out += R"(","thresholds":[)";
  for (size_t i = 0; i < thresholds.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, thresholds[i]);
  }
  out += R"(],"submetrics":null},"metric":)";
  append_json_string(out, def.name);
  out += "}\n";
}

void append_ndjson_point(std::string& out, std::string_view metric, int64_t time_ms, double value,
                         const metrics::Tags& tags) {
  append_point_head(out, time_ms, value, tags);
  append_point_tail(out, metric);
}

double representative_value(const metrics::Sink& sink) {
  switch (sink.type()) {
    case MetricType::Counter: return sink.counter().sum;
    case MetricType::Gauge: return sink.gauge().value;
    case MetricType::Rate: return sink.rate().rate();
    case MetricType::Trend: return sink.trend().mean();
  }
  return 0;
}

void append_ndjson_aggregate(std::string& out, std::string_view metric, int64_t time_ms, const metrics::Tags& tags,
                             const metrics::Sink& sink) {
  append_point_head(out, time_ms, representative_value(sink), tags);
  out += R"(,"aggregate":{)";
  append_aggregate_stats(out, sink);
  out += '}';
  append_point_tail(out, metric);
}

}  // namespace luaload::engine::output
