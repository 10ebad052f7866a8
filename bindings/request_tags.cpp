// SPDX-License-Identifier: MIT
#include "bindings/request_tags.hpp"

#include <algorithm>
#include <string>

namespace luaload::bindings {

namespace {

using engine::metrics::Tags;
using engine::metrics::TagSetId;

void append_field(std::string& key, std::string_view field) {
  key.append(field);
  key.push_back('\0');  // no tag value can contain NUL, so fields never run into each other
}

void add_unless_present(Tags& tags, const char* key, std::string_view value) {
  auto same = [key](const engine::metrics::Tag& tag) { return tag.first == key; };
  if (std::none_of(tags.begin(), tags.end(), same)) tags.emplace_back(key, std::string(value));
}

}  // namespace

TagSetId RequestTags::defaults(std::string_view group, std::string_view scenario) {
  key_.assign("d");
  append_field(key_, group);
  append_field(key_, scenario);
  if (auto it = ids_.find(key_); it != ids_.end()) return it->second;
  Tags tags{{"group", std::string(group)}};
  if (!scenario.empty()) tags.emplace_back("scenario", std::string(scenario));
  return remember(registry_.intern(std::move(tags)));
}

TagSetId RequestTags::exchange(TagSetId base, std::string_view method, std::string_view url, int status,
                               uint32_t error_code) {
  key_.assign("x");
  key_.append(reinterpret_cast<const char*>(&base), sizeof base);
  key_.append(reinterpret_cast<const char*>(&status), sizeof status);
  key_.append(reinterpret_cast<const char*>(&error_code), sizeof error_code);
  append_field(key_, method);
  append_field(key_, url);
  if (auto it = ids_.find(key_); it != ids_.end()) return it->second;
  Tags tags = registry_.tags(base);
  const bool expected = status >= 200 && status <= 399;
  add_unless_present(tags, "method", method);
  add_unless_present(tags, "name", url);
  add_unless_present(tags, "status", std::to_string(status));
  add_unless_present(tags, "expected_response", expected ? "true" : "false");
  if (error_code != 0) add_unless_present(tags, "error_code", std::to_string(error_code));
  return remember(registry_.intern(std::move(tags)));
}

TagSetId RequestTags::remember(TagSetId id) {
  if (ids_.size() >= kMaxShapes) ids_.clear();
  ids_.emplace(key_, id);
  return id;
}

}  // namespace luaload::bindings
