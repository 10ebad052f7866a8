// SPDX-License-Identifier: MIT
#include "engine/metrics/store.hpp"

#include <algorithm>

#include "engine/metrics/builtin.hpp"

namespace luaload::engine::metrics {
namespace {

std::string describe(const MetricDef& def) {
  return std::string(type_name(def.type)) + " of " + value_type_name(def.contains) + " values";
}

}  // namespace

bool tags_contain(const Tags& tags, const Tags& filter) {
  return std::all_of(filter.begin(), filter.end(),
                     [&](const Tag& wanted) { return std::find(tags.begin(), tags.end(), wanted) != tags.end(); });
}

Store::Store() {
  for (MetricId id = 0; id < builtin::kBuiltinCount; ++id) {
    const MetricDef& def = builtin::definition(id);
    metrics_.emplace(def.name, Entry{def, {}});
  }
}

// Returns the entry for def.name, creating it on first sight; nullptr (and one message) on a conflict.
Store::Entry* Store::define(const MetricDef& def, std::vector<std::string>& conflicts) {
  auto [it, inserted] = metrics_.try_emplace(def.name, Entry{def, {}});
  if (inserted || (it->second.def.type == def.type && it->second.def.contains == def.contains)) return &it->second;
  if (!reported_.insert(def.name + '\n' + describe(def)).second) return nullptr;
  std::string message = "metric '" + def.name + "' is defined as a " + describe(def) + " by a worker but was a " +
                        describe(it->second.def) + " first; keeping the first definition and dropping its samples";
  conflicts.push_back(message);
  conflicts_.push_back(std::move(message));
  return nullptr;
}

std::vector<std::string> Store::merge(const Delta& delta) {
  std::vector<std::string> conflicts;
  std::map<std::string_view, Entry*> accepted;  // this delta's names that agree with the store
  for (const MetricDef& def : delta.definitions) accepted[def.name] = define(def, conflicts);
  for (const SeriesDelta& s : delta.series) {
    auto it = accepted.find(s.metric);
    Entry* entry = it != accepted.end() ? it->second : nullptr;
    // A series without a definition in its own delta, or of another kind, cannot be merged safely.
    if (entry == nullptr || entry->def.type != s.sink.type()) continue;
    auto [series, inserted] = entry->series.try_emplace(s.tags, s.sink);
    if (inserted) {
      ++series_count_;
    } else {
      series->second.merge(s.sink);
    }
  }
  return conflicts;
}

bool Store::set_gauge(std::string_view name, double value) {
  std::vector<std::string> conflicts;
  Entry* entry = define({std::string(name), MetricType::Gauge, ValueType::Default}, conflicts);
  if (entry == nullptr) return false;
  auto [series, inserted] = entry->series.try_emplace(Tags{}, Sink(MetricType::Gauge));
  if (inserted) ++series_count_;
  series->second.add(value);
  return true;
}

std::vector<MetricDef> Store::metrics() const {
  std::vector<MetricDef> out;
  out.reserve(metrics_.size());
  for (const auto& [name, entry] : metrics_) out.push_back(entry.def);
  return out;
}

const MetricDef* Store::find(std::string_view name) const {
  auto it = metrics_.find(name);
  return it == metrics_.end() ? nullptr : &it->second.def;
}

std::optional<Sink> Store::aggregate(std::string_view name, const Tags& filter) const {
  auto it = metrics_.find(name);
  if (it == metrics_.end()) return std::nullopt;
  Sink total(it->second.def.type);
  for (const auto& [tags, sink] : it->second.series) {
    if (tags_contain(tags, filter)) total.merge(sink);
  }
  return total;
}

std::vector<Store::SeriesView> Store::series(std::string_view name) const {
  std::vector<SeriesView> out;
  auto it = metrics_.find(name);
  if (it == metrics_.end()) return out;
  for (const auto& [tags, sink] : it->second.series) out.push_back({&tags, &sink});
  return out;
}

}  // namespace luaload::engine::metrics
