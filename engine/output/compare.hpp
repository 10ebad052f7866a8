// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/metrics/histogram.hpp"
#include "engine/output/summary_reader.hpp"

namespace luaload::engine::output {

// Baselines and regression gates: `luaload compare BASELINE.json CURRENT.json` and `luaload run --baseline`
// (docs/outputs.md). Both runs are summary exports; latency percentiles come from their histograms. Pure
// functions, any thread.

// How much a figure may get worse. Latency (p50, p95, p99.9, avg, med, min, max): % of the baseline or ms;
// error_rate: pp (percentage points) or % of the baseline; checks (pass rate): pp or %; rps: % (a drop; "-5%"
// and "5%" both allow a 5% drop).
struct Tolerance {
  enum class Unit { Percent, PercentagePoints, Milliseconds };
  std::string stat;  // "p(95)", "avg", "error_rate", "rps", "checks"
  double value = 0;  // as written, e.g. 10 for "10%", 0.5 for "0.5pp"
  Unit unit = Unit::Percent;
};

// The tolerances `--max-regression` uses when not given.
inline constexpr const char* kDefaultTolerances = "p95=10%,p99=15%,error_rate=0.5pp,rps=-5%";

// Parses "p95=10%,p99=15%,error_rate=0.5pp,rps=-5%"; nullopt with `error` naming the bad item (unknown figure,
// unit not allowed for it, negative latency tolerance, missing or unparsable number).
std::optional<std::vector<Tolerance>> parse_tolerances(std::string_view text, std::string* error);

// What a comparison needs of one run.
struct RunFigures {
  RequestStats total;                 // every request
  std::optional<double> checks_rate;  // nullopt when no check ran
  std::map<std::string, RequestStats> by_name;
  double duration_s = 0;
};
RunFigures run_figures(const nlohmann::json& summary);

struct CompareRow {
  std::string scope;   // "" for the whole run, else the request name
  std::string metric;  // "p95", "error_rate", "rps", "checks", "requests"
  double baseline = 0;
  double current = 0;
  std::string limit;   // the tolerance as applied ("<= +10%"), empty when no tolerance applies
  bool regression = false;
};
struct Comparison {
  std::vector<CompareRow> rows;
  std::vector<std::string> notes;  // request names present in only one run
  size_t regressions() const;
};

// Every figure of the whole run and of each request name present in both runs, each checked against the
// tolerance of its metric (when one is given and the baseline has data for it).
Comparison compare_runs(const RunFigures& baseline, const RunFigures& current,
                        const std::vector<Tolerance>& tolerances);

// The side-by-side table `luaload compare` prints, ending with a verdict line.
std::string format_comparison(const Comparison& comparison);

}  // namespace luaload::engine::output
