// SPDX-License-Identifier: MIT
#pragma once
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
  explicit RequestTags(engine::metrics::Registry& registry) : registry_(registry) {}

  // The tags a request carries before it is sent when the script gave no tags of its own: group and scenario.
  engine::metrics::TagSetId defaults(std::string_view group, std::string_view scenario);

  // The tag set of one exchange: `base` plus method, name (the URL), status, expected_response and error_code
  // (when not 0), each unless `base` already has that key (the script's tags win, as in k6).
  engine::metrics::TagSetId exchange(engine::metrics::TagSetId base, std::string_view method, std::string_view url,
                                     int status, uint32_t error_code);

 private:
  // Scripts that put ids in URLs without a name tag make a new shape per request; past this many the cache
  // starts over instead of growing (the registry still interns each one, as k6 would).
  static constexpr size_t kMaxShapes = 65536;

  engine::metrics::TagSetId remember(engine::metrics::TagSetId id);

  engine::metrics::Registry& registry_;
  std::string key_;  // reused, so that a cache hit allocates nothing
  std::unordered_map<std::string, engine::metrics::TagSetId> ids_;
};

}  // namespace luaload::bindings
