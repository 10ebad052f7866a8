// SPDX-License-Identifier: MIT
// The CSV half of points.hpp: k6's CSV output columns.
#include <algorithm>
#include <cmath>

#include "engine/output/points.hpp"

namespace luaload::engine::output {
namespace {

// The tag columns, in k6's order, between metric_value and extra_tags.
const std::vector<std::string>& tag_columns() {
  static const std::vector<std::string> kColumns = {"check",  "error",    "error_code", "expected_response",
                                                    "group",  "method",   "name",       "proto",
                                                    "scenario", "service", "status",    "subproto",
                                                    "tls_version", "url"};
  return kColumns;
}

void append_timestamp(std::string& out, int64_t time_ms, bool unix_milli) {
  if (unix_milli) {
    out += std::to_string(time_ms);
  } else {
    out += std::to_string(time_ms >= 0 ? time_ms / 1000 : (time_ms - 999) / 1000);
  }
}

}  // namespace

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> kColumns = [] {
    std::vector<std::string> columns = {"metric_name", "timestamp", "metric_value"};
    columns.insert(columns.end(), tag_columns().begin(), tag_columns().end());
    columns.push_back("extra_tags");
    columns.push_back("metadata");
    return columns;
  }();
  return kColumns;
}

void append_csv_header(std::string& out) {
  const auto& columns = csv_columns();
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) out += ',';
    out += columns[i];
  }
  out += '\n';
}

void append_csv_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(field);
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void append_csv_row(std::string& out, std::string_view metric, int64_t time_ms, double value,
                    const metrics::Tags& tags, bool unix_milli) {
  append_csv_field(out, metric);
  out += ',';
  append_timestamp(out, time_ms, unix_milli);
  out += ',';
  if (std::isfinite(value)) append_json_number(out, value);
  const auto& columns = tag_columns();
  for (const std::string& column : columns) {
    out += ',';
    auto it = std::find_if(tags.begin(), tags.end(), [&](const metrics::Tag& t) { return t.first == column; });
    if (it != tags.end()) append_csv_field(out, it->second);
  }
  std::string extra;
  for (const auto& [key, tag_value] : tags) {
    if (std::find(columns.begin(), columns.end(), key) != columns.end()) continue;
    if (!extra.empty()) extra += '&';
    extra += key + '=' + tag_value;
  }
  out += ',';
  append_csv_field(out, extra);
  out += ",\n";
}

}  // namespace luaload::engine::output
