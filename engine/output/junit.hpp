// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/metrics/store.hpp"
#include "engine/metrics/threshold.hpp"

namespace luaload::engine::output {

// One check over the whole run: its group path ("" at the top level, "::login::form" inside groups) and counts.
struct CheckOutcome {
  std::string group;
  std::string name;
  uint64_t passes = 0;
  uint64_t fails = 0;
};

// Every check recorded in the store's `checks` metric, summed over its other tags, ordered by group then name.
std::vector<CheckOutcome> collect_checks(const metrics::Store& store);

// The --junit document: a <testsuites> with two suites, "thresholds" (one testcase per threshold, classname
// "thresholds", name "<selector>: <expression>") and "checks" (one testcase per check, classname "checks", name
// "<group path>::<check>" or just the check at the top level). A failed threshold carries a <failure> whose message
// is the observed value ("p(95)=412.2ms"); a check with any failure carries one with "<fails> of <total> failed
// (<passes> passes, <fails> fails)". Text is XML-escaped; characters XML 1.0 cannot carry become U+FFFD.
std::string junit_xml(const std::vector<metrics::ThresholdResult>& thresholds, const std::vector<CheckOutcome>& checks,
                      double elapsed_s);

// Escapes &, <, >, " and ' for text and attribute values; replaces what XML 1.0 cannot carry with U+FFFD: each
// control character other than tab, LF and CR, each U+FFFE and U+FFFF, and each byte that is not well-formed UTF-8
// (utf8_sequence_length).
std::string xml_escape(std::string_view text);

}  // namespace luaload::engine::output
