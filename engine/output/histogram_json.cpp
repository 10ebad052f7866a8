// SPDX-License-Identifier: MIT
#include "engine/output/histogram_json.hpp"

namespace luaload::engine::output {
namespace {

using metrics::Histogram;

nlohmann::json sparse_to_json(const std::vector<Histogram::Bucket>& buckets) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& b : buckets) out.push_back({b.key, b.count});
  return out;
}

// nlohmann keeps integers built in code as signed ones; parsed text gives unsigned ones. Accept both.
bool is_count(const nlohmann::json& j) {
  return j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0);
}

bool sparse_from_json(const nlohmann::json& json, std::vector<Histogram::Bucket>& out) {
  if (!json.is_array()) return false;
  for (const auto& pair : json) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_integer() || !is_count(pair[1])) {
      return false;
    }
    const auto key = pair[0].get<int64_t>();
    if (key < Histogram::kMinKey || key > Histogram::kMaxKey) return false;
    out.push_back({static_cast<int32_t>(key), pair[1].get<uint64_t>()});
  }
  return true;
}

}  // namespace

nlohmann::json histogram_to_json(const Histogram& h) {
  const Histogram::Buckets buckets = h.buckets();
  return {
      {"scheme", kHistogramScheme}, {"count", h.count()}, {"sum", h.sum()},
      {"min", h.min()},             {"max", h.max()},     {"zero", buckets.zero},
      {"positive", sparse_to_json(buckets.positive)},     {"negative", sparse_to_json(buckets.negative)},
  };
}

std::optional<Histogram> histogram_from_json(const nlohmann::json& json, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<Histogram> {
    if (error) *error = "invalid histogram: " + why;
    return std::nullopt;
  };
  if (!json.is_object()) return fail("not an object");
  if (json.value("scheme", "") != kHistogramScheme) return fail(std::string("scheme is not ") + kHistogramScheme);
  for (const char* field : {"count", "zero"}) {
    if (!json.contains(field) || !is_count(json[field])) return fail(std::string(field) + " is missing");
  }
  for (const char* field : {"sum", "min", "max"}) {
    if (!json.contains(field) || !json[field].is_number()) return fail(std::string(field) + " is missing");
  }
  Histogram::Buckets buckets;
  buckets.zero = json["zero"].get<uint64_t>();
  if (!sparse_from_json(json.value("positive", nlohmann::json::array()), buckets.positive) ||
      !sparse_from_json(json.value("negative", nlohmann::json::array()), buckets.negative)) {
    return fail("buckets must be [[key, count], ...] with keys in range");
  }
  auto h = Histogram::from_buckets(buckets, json["count"].get<uint64_t>(), json["sum"].get<double>(),
                                   json["min"].get<double>(), json["max"].get<double>());
  if (!h) return fail("bucket counts, order or bounds are inconsistent");
  return h;
}

}  // namespace luaload::engine::output
