// SPDX-License-Identifier: MIT
#include "engine/output/prometheus.hpp"

#include <charconv>
#include <cmath>

#include "engine/output/utf8.hpp"

namespace luaload::engine::output {
namespace {

using metrics::MetricType;
using metrics::ValueType;

constexpr double kQuantiles[] = {0.5, 0.9, 0.95, 0.99};

std::string number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char text[32];
  auto result = std::to_chars(text, text + sizeof text, value);
  return std::string(text, result.ptr);
}

// {key="value",...}; `extra` (already formatted, e.g. quantile="0.5") goes last. Tag keys that collide with
// the labels we add or that Prometheus reserves (leading "__") get a "tag_" prefix.
std::string labels(const metrics::Tags& tags, const std::string& extra = "") {
  std::string out;
  for (const auto& [key, value] : tags) {
    std::string name = prometheus_name(key);
    if (name == "quantile" || name.rfind("__", 0) == 0) name = "tag_" + name;
    out += (out.empty() ? "" : ",") + name + "=\"" + prometheus_label_value(value) + "\"";
  }
  if (!extra.empty()) out += (out.empty() ? "" : ",") + extra;
  return out.empty() ? "" : "{" + out + "}";
}

void family_head(std::string& out, const std::string& family, const char* type, const std::string& help) {
  out += "# HELP " + family + " " + help + "\n# TYPE " + family + " " + type + "\n";
}

void append_counter(std::string& out, const std::string& base, const metrics::MetricDef& def,
                    const std::vector<metrics::Store::SeriesView>& series) {
  const std::string family = base + (def.contains == ValueType::Data ? "_bytes_total" : "_total");
  family_head(out, family, "counter", "luaload counter " + def.name);
  for (const auto& s : series) out += family + labels(*s.tags) + " " + number(s.sink->counter().sum) + "\n";
}

void append_gauge(std::string& out, const std::string& base, const metrics::MetricDef& def,
                  const std::vector<metrics::Store::SeriesView>& series) {
  family_head(out, base, "gauge", "luaload gauge " + def.name);
  for (const auto& s : series) out += base + labels(*s.tags) + " " + number(s.sink->gauge().value) + "\n";
}

void append_rate(std::string& out, const std::string& base, const metrics::MetricDef& def,
                 const std::vector<metrics::Store::SeriesView>& series) {
  family_head(out, base + "_rate", "gauge", "luaload rate " + def.name + ": share of non-zero samples");
  for (const auto& s : series) out += base + "_rate" + labels(*s.tags) + " " + number(s.sink->rate().rate()) + "\n";
  family_head(out, base + "_passes_total", "counter", "luaload rate " + def.name + ": non-zero samples");
  for (const auto& s : series) {
    out += base + "_passes_total" + labels(*s.tags) + " " + std::to_string(s.sink->rate().passes) + "\n";
  }
  family_head(out, base + "_samples_total", "counter", "luaload rate " + def.name + ": all samples");
  for (const auto& s : series) {
    out += base + "_samples_total" + labels(*s.tags) + " " + std::to_string(s.sink->rate().total) + "\n";
  }
}

void append_trend(std::string& out, const std::string& base, const metrics::MetricDef& def,
                  const std::vector<metrics::Store::SeriesView>& series) {
  const bool time = def.contains == ValueType::Time;
  const std::string family = base + (time ? "_seconds" : def.contains == ValueType::Data ? "_bytes" : "");
  const double scale = time ? 0.001 : 1.0;
  family_head(out, family, "summary", "luaload trend " + def.name);
  for (const auto& s : series) {
    const auto& h = s.sink->trend();
    for (double q : kQuantiles) {
      out += family + labels(*s.tags, "quantile=\"" + number(q) + "\"") + " " +
             number(h.percentile(q * 100) * scale) + "\n";
    }
    out += family + "_sum" + labels(*s.tags) + " " + number(h.sum() * scale) + "\n";
    out += family + "_count" + labels(*s.tags) + " " + std::to_string(h.count()) + "\n";
  }
}

}  // namespace

std::string prometheus_name(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 1);
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    out += ok ? c : '_';
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out.insert(out.begin(), '_');
  return out;
}

// The text format is UTF-8: one invalid byte in a label value would make Prometheus reject the whole scrape, so
// invalid sequences become U+FFFD first, as in every other output.
std::string prometheus_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : sanitize_utf8(value)) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string prometheus_text(const metrics::Store& store) {
  std::string out;
  for (const metrics::MetricDef& def : store.metrics()) {
    const auto series = store.series(def.name);
    if (series.empty()) continue;
    const std::string base = "luaload_" + prometheus_name(def.name);
    switch (def.type) {
      case MetricType::Counter: append_counter(out, base, def, series); break;
      case MetricType::Gauge: append_gauge(out, base, def, series); break;
      case MetricType::Rate: append_rate(out, base, def, series); break;
      case MetricType::Trend: append_trend(out, base, def, series); break;
    }
  }
  return out;
}

}  // namespace luaload::engine::output
