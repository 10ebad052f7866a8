// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/metrics/builtin.hpp"
#include "engine/metrics/registry.hpp"
#include "engine/metrics/store.hpp"
#include "engine/output/summary_json.hpp"

namespace luaload::engine::output::testing {

// One HTTP request as the bindings record it: duration, http_reqs and http_req_failed with k6's tags.
struct FakeRequest {
  std::string name;
  double ms = 1;
  int status = 200;
  int error_code = 0;  // 0: no transport error
};

inline void record(metrics::Registry& registry, const FakeRequest& r) {
  namespace builtin = metrics::builtin;
  metrics::Tags tags = {{"name", r.name}, {"status", std::to_string(r.status)}};
  if (r.error_code) tags.emplace_back("error_code", std::to_string(r.error_code));
  std::sort(tags.begin(), tags.end());
  const auto id = registry.intern(tags);
  registry.add(builtin::kHttpReqDuration, id, r.ms);
  registry.add(builtin::kHttpReqs, id, 1);
  registry.add(builtin::kHttpReqFailed, id, r.status >= 400 || r.error_code ? 1 : 0);
}

// A summary export of these requests over `elapsed_s` seconds, with a check per request (passing when it did
// not fail) and the given extras (time series, run info).
inline nlohmann::json fake_summary(const std::vector<FakeRequest>& requests, double elapsed_s,
                                   SummaryJsonOptions options = {}) {
  metrics::Registry registry;
  for (const FakeRequest& r : requests) {
    record(registry, r);
    const bool ok = r.status < 400 && r.error_code == 0;
    registry.add(metrics::builtin::kChecks, registry.intern({{"check", "status is 200"}}), ok ? 1 : 0);
  }
  metrics::Store store;
  store.merge(registry.take_delta());
  return summary_json(store, {}, elapsed_s, options);
}

// `n` requests named `name`, with latencies start, start + step, ...
inline std::vector<FakeRequest> ramp(const std::string& name, int n, double start, double step) {
  std::vector<FakeRequest> out;
  for (int i = 0; i < n; ++i) out.push_back({name, start + step * i});
  return out;
}

}  // namespace luaload::engine::output::testing
