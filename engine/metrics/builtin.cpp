// SPDX-License-Identifier: MIT
#include "engine/metrics/builtin.hpp"

#include <array>

#include "engine/core/assert.hpp"

namespace luaload::engine::metrics::builtin {
namespace {

using enum MetricType;
using enum ValueType;

// Order matches the ids in builtin.hpp; k6 metrics/builtin.go gives the names, kinds and value types.
const std::array<MetricDef, kBuiltinCount>& table() {
  static const std::array<MetricDef, kBuiltinCount> kTable = {{
      {"vus", Gauge, Default},
      {"vus_max", Gauge, Default},
      {"iterations", Counter, Default},
      {"iteration_duration", Trend, Time},
      {"dropped_iterations", Counter, Default},
      {"data_sent", Counter, Data},
      {"data_received", Counter, Data},
      {"checks", Rate, Default},
      {"group_duration", Trend, Time},
      {"http_reqs", Counter, Default},
      {"http_req_failed", Rate, Default},
      {"http_req_duration", Trend, Time},
      {"http_req_blocked", Trend, Time},
      {"http_req_connecting", Trend, Time},
      {"http_req_tls_handshaking", Trend, Time},
      {"http_req_sending", Trend, Time},
      {"http_req_waiting", Trend, Time},
      {"http_req_receiving", Trend, Time},
      {"iteration_start_lag", Trend, Time},
      {"http_req_duration_corrected", Trend, Time},
      {"iteration_failed", Rate, Default},
  }};
  return kTable;
}

}  // namespace

const MetricDef& definition(MetricId id) {
  LUALOAD_CHECK(id < kBuiltinCount, "not a builtin metric id");
  return table()[id];
}

}  // namespace luaload::engine::metrics::builtin
