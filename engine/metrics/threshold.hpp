// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/metrics/metric.hpp"
#include "engine/metrics/store.hpp"

namespace luaload::engine::metrics {

// One threshold as configured (script options.thresholds or the CLI): {"http_req_duration{name:login}":
// [{threshold: "p(95)<500", abortOnFail: true, delayAbortEval: "10s"}]}.
struct ThresholdSpec {
  std::string selector;    // "metric" or "metric{tag:value,...}"
  std::string expression;  // "<aggregation> <op> <number>"
  bool abort_on_fail = false;
  int64_t delay_abort_eval_ns = 0;
};

// k6's aggregation methods. Which ones a metric accepts depends on its kind: Trend avg/min/max/med/p(N),
// Rate rate, Counter count/rate (rate is per second of test time), Gauge value.
enum class Aggregation { Avg, Min, Max, Med, Percentile, Rate, Count, Value };
enum class ComparisonOp { Less, LessEqual, Greater, GreaterEqual, Equal, StrictEqual, NotEqual };

struct Selector {
  std::string metric;
  Tags filter;  // sorted by key; empty for the metric itself
  bool operator==(const Selector&) const = default;
};
struct Expression {
  Aggregation aggregation = Aggregation::Avg;
  double percentile = 0;  // for Aggregation::Percentile, in [0, 100]
  ComparisonOp op = ComparisonOp::Less;
  double bound = 0;
  std::string aggregation_text;  // as k6 writes it in summaries: "p(95)", "avg", "rate"
};

// A percentile as k6 writes it inside p(...): "95", "99.9".
std::string format_percentile(double p);

// Parsers. On failure: nullopt and `error` names the bad input and what was expected at which character.
std::optional<Selector> parse_selector(std::string_view text, std::string* error);
std::optional<Expression> parse_expression(std::string_view text, std::string* error);

// When a threshold is evaluated, which decides what a (sub-)metric without samples yields, as in k6 (metrics/engine
// evaluateThresholds, metrics/thresholds.go Run):
// - During the run an empty (sub-)metric is skipped: it passes, says "no data" and never triggers an abort.
// - At the End it is judged like any other, with every aggregation of a Counter, Gauge or Trend taken as 0 (so
//   `count>0` fails and `p(95)<500` passes); a Rate has no rate without samples, so its thresholds pass.
enum class EvaluationTime { During, End };

struct ThresholdResult {
  std::string selector;    // as configured, trimmed
  std::string expression;  // as configured, trimmed
  bool passed = true;
  bool no_data = false;    // the (sub-)metric had no samples (see EvaluationTime for what then counts)
  double observed = 0;
  std::string text;        // "p(95)=102.47ms", "rate=12.34%", "count=50", "p(95)=no data", "count=0 (no data)"
  bool abort_on_fail = false;
};

// The configured thresholds of a test. Main thread only.
//
// Life: parse() at startup (syntax errors: exit code 104) -> validate() once the store knows every metric, i.e.
// after the workers' init deltas were merged (unknown metric or wrong aggregation for its kind: also 104) ->
// evaluate() periodically and at the end -> should_abort() after each periodic evaluation.
//
// No data: see EvaluationTime. Validation needs the metric to be known (defined), not to have samples.
class ThresholdSet {
 public:
  static std::optional<ThresholdSet> parse(const std::vector<ThresholdSpec>& specs, std::string* error);

  // k6's message for the first bad threshold: "invalid threshold defined on <selector>; reason: ...".
  bool validate(const Store& store, std::string* error) const;

  // Computes every threshold from the store; elapsed_s (test time so far) gives counters their per-second rate.
  // Results keep the configuration order and are remembered for should_abort().
  const std::vector<ThresholdResult>& evaluate(const Store& store, double elapsed_s,
                                               EvaluationTime when = EvaluationTime::During);
  const std::vector<ThresholdResult>& last_results() const { return results_; }

  // True when, in the last evaluation, a threshold with abortOnFail failed and its delayAbortEval has passed by
  // `elapsed_ns` (test time). `reason`, when given, names the threshold.
  bool should_abort(int64_t elapsed_ns, std::string* reason = nullptr) const;

  // False when any threshold failed in the last evaluation.
  bool all_passed() const;
  bool empty() const { return thresholds_.empty(); }
  size_t size() const { return thresholds_.size(); }

 private:
  struct Threshold {
    ThresholdSpec spec;
    Selector selector;
    Expression expression;
  };
  ThresholdResult evaluate_one(const Threshold& t, const Store& store, double elapsed_s, EvaluationTime when) const;

  std::vector<Threshold> thresholds_;
  std::vector<ThresholdResult> results_;
};

// Whether `aggregation` applies to metrics of `type`.
bool aggregation_applies(Aggregation aggregation, MetricType type);

}  // namespace luaload::engine::metrics
