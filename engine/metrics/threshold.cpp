// SPDX-License-Identifier: MIT
#include "engine/metrics/threshold.hpp"

#include "engine/metrics/format.hpp"

namespace luaload::engine::metrics {
namespace {

std::string trimmed(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

bool compare(double observed, ComparisonOp op, double bound) {
  switch (op) {
    case ComparisonOp::Less: return observed < bound;
    case ComparisonOp::LessEqual: return observed <= bound;
    case ComparisonOp::Greater: return observed > bound;
    case ComparisonOp::GreaterEqual: return observed >= bound;
    case ComparisonOp::Equal:
    case ComparisonOp::StrictEqual: return observed == bound;
    case ComparisonOp::NotEqual: return observed != bound;
  }
  return false;
}

double observe(const Expression& e, const Sink& sink, double elapsed_s) {
  switch (e.aggregation) {
    case Aggregation::Avg: return sink.trend().mean();
    case Aggregation::Min: return sink.trend().min();
    case Aggregation::Max: return sink.trend().max();
    case Aggregation::Med: return sink.trend().median();
    case Aggregation::Percentile: return sink.trend().percentile(e.percentile);
    case Aggregation::Count: return sink.counter().sum;
    case Aggregation::Value: return sink.gauge().value;
    case Aggregation::Rate:
      if (sink.type() == MetricType::Rate) return sink.rate().rate();
      return elapsed_s > 0 ? sink.counter().sum / elapsed_s : 0;
  }
  return 0;
}

// The observed value as the summary shows it: durations and sizes in their units, rates as percentages.
std::string describe(const Expression& e, const MetricDef& def, double value) {
  std::string shown;
  if (def.type == MetricType::Rate) {
    shown = format_percent(value);
  } else if (e.aggregation == Aggregation::Rate) {
    shown = (def.contains == ValueType::Data ? format_bytes(value) : format_number(value)) + "/s";
  } else {
    shown = format_value(value, def.contains);
  }
  return e.aggregation_text + "=" + shown;
}

}  // namespace

bool aggregation_applies(Aggregation aggregation, MetricType type) {
  switch (aggregation) {
    case Aggregation::Avg:
    case Aggregation::Min:
    case Aggregation::Max:
    case Aggregation::Med:
    case Aggregation::Percentile: return type == MetricType::Trend;
    case Aggregation::Rate: return type == MetricType::Rate || type == MetricType::Counter;
    case Aggregation::Count: return type == MetricType::Counter;
    case Aggregation::Value: return type == MetricType::Gauge;
  }
  return false;
}

std::optional<ThresholdSet> ThresholdSet::parse(const std::vector<ThresholdSpec>& specs, std::string* error) {
  ThresholdSet set;
  for (const ThresholdSpec& spec : specs) {
    auto selector = parse_selector(spec.selector, error);
    if (!selector) return std::nullopt;
    auto expression = parse_expression(spec.expression, error);
    if (!expression) {
      if (error) *error += " (on " + trimmed(spec.selector) + ")";
      return std::nullopt;
    }
    if (spec.delay_abort_eval_ns < 0) {
      if (error) *error = "invalid threshold on " + trimmed(spec.selector) + ": delayAbortEval must not be negative";
      return std::nullopt;
    }
    set.thresholds_.push_back({spec, std::move(*selector), std::move(*expression)});
  }
  return set;
}

bool ThresholdSet::validate(const Store& store, std::string* error) const {
  for (const Threshold& t : thresholds_) {
    const MetricDef* def = store.find(t.selector.metric);
    std::string reason;
    if (def == nullptr) {
      reason = "no metric name \"" + t.selector.metric + "\" found";
    } else if (!aggregation_applies(t.expression.aggregation, def->type)) {
      reason = "the aggregation method \"" + t.expression.aggregation_text + "\" cannot be applied to metric \"" +
               def->name + "\" of type " + type_name(def->type);
    }
    if (!reason.empty()) {
      if (error) *error = "invalid threshold defined on " + trimmed(t.spec.selector) + "; reason: " + reason;
      return false;
    }
  }
  return true;
}

ThresholdResult ThresholdSet::evaluate_one(const Threshold& t, const Store& store, double elapsed_s,
                                           EvaluationTime when) const {
  ThresholdResult r;
  r.selector = trimmed(t.spec.selector);
  r.expression = trimmed(t.spec.expression);
  r.abort_on_fail = t.spec.abort_on_fail;
  const MetricDef* def = store.find(t.selector.metric);
  const auto sink = store.aggregate(t.selector.metric, t.selector.filter);
  if (def == nullptr || !sink || !aggregation_applies(t.expression.aggregation, def->type)) {
    // validate() reports this before the run; failing here keeps a skipped validation from passing silently.
    r.passed = false;
    r.text = t.expression.aggregation_text + "=invalid";
    return r;
  }
  if (sink->empty()) {
    r.no_data = true;
    r.text = t.expression.aggregation_text + "=no data";
    if (when == EvaluationTime::During || def->type == MetricType::Rate) return r;
    // At the end k6 judges an empty Counter, Gauge or Trend by zero values (its sinks start at 0).
    r.passed = compare(0, t.expression.op, t.expression.bound);
    r.text = describe(t.expression, *def, 0) + " (no data)";
    return r;
  }
  r.observed = observe(t.expression, *sink, elapsed_s);
  r.passed = compare(r.observed, t.expression.op, t.expression.bound);
  r.text = describe(t.expression, *def, r.observed);
  return r;
}

const std::vector<ThresholdResult>& ThresholdSet::evaluate(const Store& store, double elapsed_s,
                                                           EvaluationTime when) {
  results_.clear();
  for (const Threshold& t : thresholds_) results_.push_back(evaluate_one(t, store, elapsed_s, when));
  return results_;
}

bool ThresholdSet::should_abort(int64_t elapsed_ns, std::string* reason) const {
  for (size_t i = 0; i < results_.size() && i < thresholds_.size(); ++i) {
    const ThresholdSpec& spec = thresholds_[i].spec;
    if (!spec.abort_on_fail || results_[i].passed || elapsed_ns < spec.delay_abort_eval_ns) continue;
    if (reason) *reason = "threshold '" + results_[i].expression + "' on " + results_[i].selector + " failed";
    return true;
  }
  return false;
}

bool ThresholdSet::all_passed() const {
  for (const ThresholdResult& r : results_) {
    if (!r.passed) return false;
  }
  return true;
}

}  // namespace luaload::engine::metrics
