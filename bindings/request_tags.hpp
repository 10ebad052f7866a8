// SPDX-License-Identifier: MIT
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/metrics/registry.hpp"

namespace luaload::bindings {

// Tag sets of HTTP samples, interned once per distinct request shape rather than per request: building, sorting
// and encoding a tag list costs more than the rest of recording a sample, and almost every request of a test
// repeats a shape seen before. Worker thread only (like the registry it fills).
class RequestTags {
 public:
  // The series an exchange's samples go to (bindings/http.cpp records them).
  struct ExchangeSeries {
    engine::metrics::TagSetId tags = 0;
    engine::metrics::SeriesId reqs = 0, failed = 0, duration = 0, duration_corrected = 0, blocked = 0,
                              connecting = 0, tls_handshaking = 0, sending = 0, waiting = 0, receiving = 0,
                              data_sent = 0, data_received = 0;
  };

  explicit RequestTags(engine::metrics::Registry& registry) : registry_(registry) {}

  // The tags a request carries before it is sent when the script gave no tags of its own: group and scenario.
  engine::metrics::TagSetId defaults(std::string_view group, std::string_view scenario);

  // The tag set of one exchange: `base` plus method, name (the URL), status, expected_response (`expected`: the
  // request's expected-statuses rule applied to `status`, bindings/expected_statuses.hpp) and error_code (when
  // not 0), each unless `base` already has that key (the script's tags win, as in k6).
  engine::metrics::TagSetId exchange(engine::metrics::TagSetId base, std::string_view method, std::string_view url,
                                     int status, uint32_t error_code, bool expected);
  // exchange()'s tag set with the series of every HTTP metric for it. The last few shapes are remembered with
  // their series, so the common case is a handful of compares and no hashing at all. The reference is valid
  // until the next call.
  const ExchangeSeries& exchange_series(engine::metrics::TagSetId base, std::string_view method,
                                        std::string_view url, int status, uint32_t error_code, bool expected);

 private:
  // Scripts that put ids in URLs without a name tag make a new shape per request; past this many the cache
  // starts over instead of growing (the registry still interns each one, as k6 would).
  static constexpr size_t kMaxShapes = 65536;

  engine::metrics::TagSetId remember(engine::metrics::TagSetId id);

  struct RecentExchange {
    bool used = false;
    engine::metrics::TagSetId base = 0;
    int status = 0;
    uint32_t error_code = 0;
    bool expected = false;
    std::string method, url;
    ExchangeSeries series;
  };
  // A user journey has a few request shapes per worker; more than this just falls back to the map.
  static constexpr size_t kRecentShapes = 8;

  engine::metrics::Registry& registry_;
  std::string key_;  // reused, so that a cache hit allocates nothing
  std::unordered_map<std::string, engine::metrics::TagSetId> ids_;
  std::array<RecentExchange, kRecentShapes> recent_;
  size_t next_recent_ = 0;  // the slot replaced next (round robin)
};

}  // namespace luaload::bindings
