// SPDX-License-Identifier: MIT
#include "engine/metrics/registry.hpp"

#include <algorithm>
#include <cmath>

#include "engine/core/assert.hpp"
#include "engine/core/clock.hpp"
#include "engine/metrics/builtin.hpp"

namespace luaload::engine::metrics {
namespace {

uint64_t series_key(MetricId metric, TagSetId tags) { return static_cast<uint64_t>(metric) << 32 | tags; }

// Length-prefixed so that no key or value content can make two different tag sets encode alike.
std::string canonical(const Tags& tags) {
  std::string out;
  for (const auto& [key, value] : tags) {
    out += std::to_string(key.size()) + ':' + key + std::to_string(value.size()) + ':' + value;
  }
  return out;
}

// Sorts by key; of repeated keys the last one given wins, as when a script overrides a default tag.
Tags normalized(Tags tags) {
  std::stable_sort(tags.begin(), tags.end(), [](const Tag& a, const Tag& b) { return a.first < b.first; });
  Tags out;
  out.reserve(tags.size());
  for (Tag& tag : tags) {
    if (!out.empty() && out.back().first == tag.first) {
      out.back().second = std::move(tag.second);
    } else {
      out.push_back(std::move(tag));
    }
  }
  return out;
}

}  // namespace

Registry::Registry() {
  for (MetricId id = 0; id < builtin::kBuiltinCount; ++id) {
    const MetricDef& def = builtin::definition(id);
    definitions_.push_back(def);
    by_name_.emplace(def.name, id);
  }
  intern({});  // tag set 0 is the empty set
}

std::optional<MetricId> Registry::define(std::string_view name, MetricType type, ValueType contains,
                                         std::string* error) {
  const std::string key(name);
  if (!is_valid_metric_name(name)) {
    if (error) *error = "invalid metric name '" + key + "': must match ^[a-zA-Z_][a-zA-Z0-9_]{0,127}$";
    return std::nullopt;
  }
  if (auto it = by_name_.find(key); it != by_name_.end()) {
    const MetricDef& existing = definitions_[it->second];
    if (existing.type == type && existing.contains == contains) return it->second;
    if (error) {
      *error = "metric '" + key + "' already exists as a " + type_name(existing.type) + " of " +
               value_type_name(existing.contains) + " values, not a " + type_name(type) + " of " +
               value_type_name(contains) + " values";
    }
    return std::nullopt;
  }
  const auto id = static_cast<MetricId>(definitions_.size());
  definitions_.push_back({key, type, contains});
  by_name_.emplace(key, id);
  return id;
}

std::optional<MetricId> Registry::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

TagSetId Registry::intern(Tags tags) {
  Tags sorted = normalized(std::move(tags));
  std::string key = canonical(sorted);
  if (auto it = tag_set_ids_.find(key); it != tag_set_ids_.end()) return it->second;
  const auto id = static_cast<TagSetId>(tag_sets_.size());
  tag_sets_.push_back(std::move(sorted));
  tag_set_ids_.emplace(std::move(key), id);
  return id;
}

void Registry::add(MetricId metric, TagSetId tags, double value) {
  LUALOAD_ASSERT(metric < definitions_.size());
  LUALOAD_ASSERT(tags < tag_sets_.size());
  if (std::isnan(value)) return;
  const uint64_t key = series_key(metric, tags);
  Sink* sink = series_.find(key);
  if (sink == nullptr) sink = &series_.insert(key, definitions_[metric].type);
  sink->add(value);
  if (sample_capacity_ != 0) log_sample(key, value);
}

SeriesId Registry::series(MetricId metric, TagSetId tags) {
  LUALOAD_ASSERT(metric < definitions_.size());
  LUALOAD_ASSERT(tags < tag_sets_.size());
  const uint64_t key = series_key(metric, tags);
  if (const auto index = series_.index_of(key)) return *index;
  series_.insert(key, definitions_[metric].type);
  return static_cast<SeriesId>(series_.size() - 1);
}

void Registry::add_to(SeriesId series, double value) {
  LUALOAD_ASSERT(series < series_.size());
  if (std::isnan(value)) return;
  series_.sink_at(series).add(value);
  if (sample_capacity_ != 0) log_sample(series_.key_at(series), value);
}

void Registry::log_sample(uint64_t key, double value) {
  if (samples_.size() >= sample_capacity_) {
    ++samples_dropped_;
    return;
  }
  samples_.push_back({static_cast<MetricId>(key >> 32), static_cast<TagSetId>(key & 0xffffffffu), value,
                      core::wall_now_ms()});
}

void Registry::enable_sample_log(size_t capacity) {
  sample_capacity_ = capacity;
  samples_.reserve(std::min<size_t>(capacity, 4096));
}

void Registry::move_samples(Delta& delta) {
  // Tag sets are renumbered densely per delta, so a delta stands alone: the reader needs no table from earlier ones.
  std::unordered_map<TagSetId, uint32_t> local;
  delta.samples.reserve(samples_.size());
  for (RawSample sample : samples_) {
    auto [it, inserted] = local.emplace(sample.tags, static_cast<uint32_t>(delta.sample_tags.size()));
    if (inserted) delta.sample_tags.push_back(tag_sets_[sample.tags]);
    sample.tags = it->second;
    delta.samples.push_back(sample);
  }
  samples_.clear();
  delta.samples_dropped = samples_dropped_;
  samples_dropped_ = 0;
}

Delta Registry::take_delta() {
  Delta delta;
  delta.definitions = definitions_;
  for (size_t i = 0; i < series_.size(); ++i) {
    Sink& sink = series_.sink_at(i);
    if (sink.empty()) continue;
    const uint64_t key = series_.key_at(i);
    const auto metric = static_cast<MetricId>(key >> 32);
    const auto tags = static_cast<TagSetId>(key & 0xffffffffu);
    delta.series.push_back({definitions_[metric].name, tag_sets_[tags], sink});
    sink.clear();
  }
  if (sample_capacity_ > 0) move_samples(delta);
  return delta;
}

}  // namespace luaload::engine::metrics
