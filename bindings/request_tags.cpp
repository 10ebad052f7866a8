// SPDX-License-Identifier: MIT
#include "bindings/request_tags.hpp"

#include <algorithm>
#include <string>

#include "engine/metrics/builtin.hpp"

namespace luaload::bindings {

namespace {

namespace builtin = engine::metrics::builtin;

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
                               uint32_t error_code, bool expected) {
  key_.assign(expected ? "x" : "y");
  key_.append(reinterpret_cast<const char*>(&base), sizeof base);
  key_.append(reinterpret_cast<const char*>(&status), sizeof status);
  key_.append(reinterpret_cast<const char*>(&error_code), sizeof error_code);
  append_field(key_, method);
  append_field(key_, url);
  if (auto it = ids_.find(key_); it != ids_.end()) return it->second;
  Tags tags = registry_.tags(base);
  add_unless_present(tags, "method", method);
  add_unless_present(tags, "name", url);
  add_unless_present(tags, "status", std::to_string(status));
  add_unless_present(tags, "expected_response", expected ? "true" : "false");
  if (error_code != 0) add_unless_present(tags, "error_code", std::to_string(error_code));
  return remember(registry_.intern(std::move(tags)));
}

const RequestTags::ExchangeSeries& RequestTags::exchange_series(TagSetId base, std::string_view method,
                                                               std::string_view url, int status,
                                                               uint32_t error_code, bool expected) {
  for (const RecentExchange& recent : recent_) {
    if (recent.used && recent.base == base && recent.status == status && recent.error_code == error_code &&
        recent.expected == expected && recent.url == url && recent.method == method) {
      return recent.series;
    }
  }
  RecentExchange& slot = recent_[next_recent_];
  next_recent_ = (next_recent_ + 1) % kRecentShapes;
  const TagSetId tags = exchange(base, method, url, status, error_code, expected);
  slot.used = true;
  slot.expected = expected;
  slot.base = base;
  slot.status = status;
  slot.error_code = error_code;
  slot.method.assign(method);
  slot.url.assign(url);
  ExchangeSeries& s = slot.series;
  auto series = [&](engine::metrics::MetricId metric) { return registry_.series(metric, tags); };
  s.tags = tags;
  s.reqs = series(builtin::kHttpReqs);
  s.failed = series(builtin::kHttpReqFailed);
  s.duration = series(builtin::kHttpReqDuration);
  s.duration_corrected = series(builtin::kHttpReqDurationCorrected);
  s.blocked = series(builtin::kHttpReqBlocked);
  s.connecting = series(builtin::kHttpReqConnecting);
  s.tls_handshaking = series(builtin::kHttpReqTlsHandshaking);
  s.sending = series(builtin::kHttpReqSending);
  s.waiting = series(builtin::kHttpReqWaiting);
  s.receiving = series(builtin::kHttpReqReceiving);
  s.data_sent = series(builtin::kDataSent);
  s.data_received = series(builtin::kDataReceived);
  return s;
}

TagSetId RequestTags::remember(TagSetId id) {
  if (ids_.size() >= kMaxShapes) ids_.clear();
  ids_.emplace(key_, id);
  return id;
}

}  // namespace luaload::bindings
