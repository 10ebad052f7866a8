// SPDX-License-Identifier: MIT
#include "engine/output/summary_reader.hpp"

#include <cctype>
#include <fstream>
#include <sstream>

#include "engine/output/histogram_json.hpp"
#include "engine/output/trend_stats.hpp"

namespace luaload::engine::output {
namespace {

using nlohmann::json;

std::optional<double> number_at(const json& object, const std::string& key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::string tag_of(const json& series, const char* key) {
  const json& tags = series.contains("tags") ? series["tags"] : json();
  if (!tags.is_object() || !tags.contains(key) || !tags[key].is_string()) return "";
  return tags[key].get<std::string>();
}

const json& series_of(const json& summary, const char* metric) {
  static const json kEmpty = json::array();
  if (!summary.contains("metrics") || !summary["metrics"].is_object()) return kEmpty;
  const json& metrics = summary["metrics"];
  if (!metrics.contains(metric) || !metrics[metric].contains("series")) return kEmpty;
  const json& series = metrics[metric]["series"];
  return series.is_array() ? series : kEmpty;
}

uint64_t count_at(const json& series, const char* key) {
  auto v = number_at(series.contains("values") ? series["values"] : json(), key);
  return v ? count_from_double(*v) : 0;
}

}  // namespace

std::optional<json> load_summary(const std::string& path, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read \"" + path + "\"";
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  json parsed = json::parse(text.str(), nullptr, false);
  if (parsed.is_discarded()) {
    *error = "\"" + path + "\" is not JSON";
    return std::nullopt;
  }
  if (!parsed.is_object() || !parsed.contains("metrics") || !parsed["metrics"].is_object()) {
    *error = "\"" + path + "\" is not a luaload summary export (no \"metrics\" object)";
    return std::nullopt;
  }
  return parsed;
}

std::optional<metrics::Histogram> entry_histogram(const json& entry) {
  if (!entry.is_object() || !entry.contains("histogram") || !entry["histogram"].is_object()) return std::nullopt;
  std::string error;
  // histogram_from_json reads fields with json::value(), which throws on a field of the wrong type; a hand-edited
  // or foreign file must not end the command.
  try {
    return histogram_from_json(entry["histogram"], &error);
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::string normalize_stat(std::string_view stat) {
  if (stat.size() >= 2 && stat[0] == 'p' && std::isdigit(static_cast<unsigned char>(stat[1])))
    return "p(" + std::string(stat.substr(1)) + ")";
  return std::string(stat);
}

std::optional<double> entry_stat(const json& entry, std::string_view raw_stat) {
  if (!entry.is_object()) return std::nullopt;
  const std::string stat = normalize_stat(raw_stat);
  const std::string type = entry.contains("type") && entry["type"].is_string() ? entry["type"].get<std::string>() : "";
  if (type == "trend") {
    if (auto h = entry_histogram(entry)) return trend_stat(*h, stat);
  }
  return number_at(entry.contains("values") ? entry["values"] : json(), stat);
}

uint64_t count_from_double(double value) {
  return value > 0 && value < 9.2e18 ? static_cast<uint64_t>(value) : 0;
}

double run_duration_s(const json& summary) {
  if (!summary.contains("state")) return 0;
  return number_at(summary["state"], "testRunDurationMs").value_or(0) / 1000;
}

std::map<std::string, RequestStats> request_stats_by_name(const json& summary) {
  std::map<std::string, RequestStats> out;
  for (const json& s : series_of(summary, "http_req_duration")) {
    if (auto h = entry_histogram(s)) out[tag_of(s, "name")].duration.merge(*h);
  }
  for (const json& s : series_of(summary, "http_reqs")) out[tag_of(s, "name")].requests += count_at(s, "count");
  for (const json& s : series_of(summary, "http_req_failed")) {
    RequestStats& stats = out[tag_of(s, "name")];
    stats.failed += count_at(s, "passes");
    stats.failed_total += count_at(s, "passes") + count_at(s, "fails");
  }
  return out;
}

std::map<std::string, uint64_t> errors_by_code(const json& summary) {
  std::map<std::string, uint64_t> out;
  for (const json& s : series_of(summary, "http_req_failed")) {
    const uint64_t failed = count_at(s, "passes");
    if (failed == 0) continue;
    const std::string code = tag_of(s, "error_code");
    out[code.empty() ? "status " + tag_of(s, "status") : "error_code " + code] += failed;
  }
  return out;
}

}  // namespace luaload::engine::output
