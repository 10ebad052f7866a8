// SPDX-License-Identifier: MIT
#include "engine/schedule/options.hpp"

#include <nlohmann/json.hpp>

#include "engine/core/duration.hpp"

namespace luaload::engine::schedule {
namespace {

using nlohmann::json;

bool fail(std::string* error, const std::string& message) {
  *error = message;
  return false;
}

bool read_count(const json& value, const char* key, std::optional<int64_t>* out, std::string* error) {
  if (!value.is_number() || (value.is_number_float() && value.get<double>() != static_cast<int64_t>(value.get<double>())))
    return fail(error, std::string("options.") + key + " must be a whole number, got " + value.dump());
  int64_t n = value.get<int64_t>();
  if (n < 0) return fail(error, std::string("options.") + key + " must not be negative, got " + value.dump());
  *out = n;
  return true;
}

// k6 accepts "30s"-style strings and plain numbers of milliseconds for durations.
bool read_duration(const json& value, const char* key, int64_t* out, std::string* error) {
  if (value.is_number()) {
    double ms = value.get<double>();
    if (ms < 0) return fail(error, std::string("options.") + key + " must not be negative, got " + value.dump());
    *out = static_cast<int64_t>(ms * 1e6);
    return true;
  }
  if (value.is_string()) {
    if (auto ns = core::parse_duration(value.get<std::string>())) {
      *out = *ns;
      return true;
    }
  }
  return fail(error, std::string("options.") + key + " is not a duration (like \"30s\", \"1m30s\"): " + value.dump());
}

bool read_threshold_rule(const std::string& selector, const json& rule, metrics::ThresholdSpec* spec,
                         std::string* error) {
  spec->selector = selector;
  if (rule.is_string()) {
    spec->expression = rule.get<std::string>();
    return true;
  }
  if (!rule.is_object() || !rule.contains("threshold") || !rule["threshold"].is_string())
    return fail(error, "threshold on " + selector + " must be a string or {threshold = \"...\"}, got " + rule.dump());
  spec->expression = rule["threshold"].get<std::string>();
  if (rule.contains("abortOnFail")) {
    if (!rule["abortOnFail"].is_boolean())
      return fail(error, "abortOnFail on " + selector + " must be true or false, got " + rule["abortOnFail"].dump());
    spec->abort_on_fail = rule["abortOnFail"].get<bool>();
  }
  if (rule.contains("delayAbortEval"))
    return read_duration(rule["delayAbortEval"], "thresholds.delayAbortEval", &spec->delay_abort_eval_ns, error);
  return true;
}

bool read_thresholds(const json& value, std::vector<metrics::ThresholdSpec>* out, std::string* error) {
  if (!value.is_object()) return fail(error, "options.thresholds must be a table keyed by metric, got " + value.dump());
  for (const auto& [selector, rules] : value.items()) {
    // An empty Lua table encodes as {}: treat it like an empty list.
    if (rules.is_object() && rules.empty()) continue;
    json list = rules.is_array() ? rules : json::array({rules});
    for (const auto& rule : list) {
      metrics::ThresholdSpec spec;
      if (!read_threshold_rule(selector, rule, &spec, error)) return false;
      out->push_back(std::move(spec));
    }
  }
  return true;
}

}  // namespace

bool parse_script_options(const json& json, TestOptions* options, std::string* error) {
  if (json.is_null() || (json.is_array() && json.empty())) return true;
  if (!json.is_object()) return fail(error, "options must be a table, got " + json.dump());
  for (const auto& [key, value] : json.items()) {
    bool ok = true;
    if (key == "vus") {
      ok = read_count(value, "vus", &options->vus, error);
    } else if (key == "iterations") {
      ok = read_count(value, "iterations", &options->iterations, error);
    } else if (key == "duration") {
      int64_t ns = 0;
      ok = read_duration(value, "duration", &ns, error);
      if (ok) options->duration_ns = ns;
    } else if (key == "gracefulStop") {
      ok = read_duration(value, "gracefulStop", &options->graceful_stop_ns, error);
    } else if (key == "setupTimeout") {
      ok = read_duration(value, "setupTimeout", &options->setup_timeout_ns, error);
    } else if (key == "teardownTimeout") {
      ok = read_duration(value, "teardownTimeout", &options->teardown_timeout_ns, error);
    } else if (key == "maxRedirects") {
      std::optional<int64_t> n;
      ok = read_count(value, "maxRedirects", &n, error);
      if (ok) options->max_redirects = static_cast<int>(*n);
    } else if (key == "insecureSkipTLSVerify") {
      if (!value.is_boolean()) return fail(error, "options.insecureSkipTLSVerify must be true or false");
      options->insecure_skip_tls_verify = value.get<bool>();
    } else if (key == "userAgent") {
      if (!value.is_string()) return fail(error, "options.userAgent must be a string");
      options->user_agent = value.get<std::string>();
    } else if (key == "thresholds") {
      ok = read_thresholds(value, &options->thresholds, error);
    }
    if (!ok) return false;
  }
  return true;
}

bool resolve_plan(const TestOptions& options, ScenarioPlan* plan, std::string* error) {
  constexpr int64_t kDefaultMaxDuration = 600 * kSecondNs;
  plan->graceful_stop_ns = options.graceful_stop_ns;
  plan->vus = options.vus.value_or(1);
  if (options.iterations) {
    plan->executor = ScenarioPlan::Executor::SharedIterations;
    plan->iterations = *options.iterations;
    plan->duration_ns = options.duration_ns.value_or(kDefaultMaxDuration);
    if (plan->vus > plan->iterations && plan->iterations > 0) plan->vus = plan->iterations;
  } else if (options.duration_ns) {
    plan->executor = ScenarioPlan::Executor::ConstantVus;
    plan->duration_ns = *options.duration_ns;
    if (plan->duration_ns <= 0) return fail(error, "duration must be greater than 0");
  } else {
    plan->executor = ScenarioPlan::Executor::SharedIterations;
    plan->iterations = 1;
    plan->vus = 1;
    plan->duration_ns = kDefaultMaxDuration;
  }
  if (plan->vus <= 0) return fail(error, "vus must be at least 1");
  return true;
}

const char* executor_name(ScenarioPlan::Executor executor) {
  return executor == ScenarioPlan::Executor::ConstantVus ? "constant-vus" : "shared-iterations";
}

}  // namespace luaload::engine::schedule
