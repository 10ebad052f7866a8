// SPDX-License-Identifier: MIT
#pragma once

#include "engine/metrics/metric.hpp"

namespace luaload::engine::metrics::builtin {

// k6's builtin metrics (k6 metrics/builtin.go), then luaload's own, pre-defined in every Registry with exactly
// these ids.
inline constexpr MetricId kVus = 0;                    // Gauge, recorded by the main thread
inline constexpr MetricId kVusMax = 1;                 // Gauge, recorded by the main thread
inline constexpr MetricId kIterations = 2;             // Counter
inline constexpr MetricId kIterationDuration = 3;      // Trend, Time
inline constexpr MetricId kDroppedIterations = 4;      // Counter
inline constexpr MetricId kDataSent = 5;               // Counter, Data
inline constexpr MetricId kDataReceived = 6;           // Counter, Data
inline constexpr MetricId kChecks = 7;                 // Rate
inline constexpr MetricId kGroupDuration = 8;          // Trend, Time
inline constexpr MetricId kHttpReqs = 9;               // Counter
inline constexpr MetricId kHttpReqFailed = 10;         // Rate
inline constexpr MetricId kHttpReqDuration = 11;       // Trend, Time
inline constexpr MetricId kHttpReqBlocked = 12;        // Trend, Time
inline constexpr MetricId kHttpReqConnecting = 13;     // Trend, Time
inline constexpr MetricId kHttpReqTlsHandshaking = 14; // Trend, Time
inline constexpr MetricId kHttpReqSending = 15;        // Trend, Time
inline constexpr MetricId kHttpReqWaiting = 16;        // Trend, Time
inline constexpr MetricId kHttpReqReceiving = 17;      // Trend, Time
inline constexpr MetricId kIterationStartLag = 18;     // Trend, Time: arrival rate, scheduled -> actual start
inline constexpr MetricId kHttpReqDurationCorrected = 19;  // Trend, Time: duration + the iteration's start lag
inline constexpr MetricId kIterationFailed = 20;      // Rate: 1 per failed or aborted iteration, 0 per completed
inline constexpr MetricId kBuiltinCount = 21;

// The definitions, indexed by the ids above.
const MetricDef& definition(MetricId id);

}  // namespace luaload::engine::metrics::builtin
