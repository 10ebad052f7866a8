// SPDX-License-Identifier: MIT
#include "engine/schedule/options.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "engine/core/duration.hpp"
#include "engine/schedule/option_readers.hpp"

namespace luaload::engine::schedule {
namespace detail {

using nlohmann::json;

bool fail(std::string* error, const std::string& message) {
  *error = message;
  return false;
}

bool read_count(const json& value, const std::string& key, int64_t* out, std::string* error) {
  if (!value.is_number() || (value.is_number_float() && value.get<double>() != static_cast<int64_t>(value.get<double>())))
    return fail(error, key + " must be a whole number, got " + value.dump());
  int64_t n = value.get<int64_t>();
  if (n < 0) return fail(error, key + " must not be negative, got " + value.dump());
  *out = n;
  return true;
}

bool read_duration(const json& value, const std::string& key, int64_t* out, std::string* error) {
  if (value.is_number()) {
    double ms = value.get<double>();
    if (ms < 0) return fail(error, key + " must not be negative, got " + value.dump());
    *out = static_cast<int64_t>(ms * 1e6);
    return true;
  }
  if (value.is_string()) {
    if (auto ns = core::parse_duration(value.get<std::string>())) {
      *out = *ns;
      return true;
    }
  }
  return fail(error, key + " is not a duration (like \"30s\", \"1m30s\"): " + value.dump());
}

bool read_stages(const json& value, const std::string& key, std::vector<Stage>* out, std::string* error) {
  out->clear();
  if (value.is_object() && value.empty()) return true;  // an empty Lua table
  if (!value.is_array()) return fail(error, key + " must be a list of {duration = \"...\", target = N}, got " + value.dump());
  for (size_t i = 0; i < value.size(); ++i) {
    const json& stage = value[i];
    std::string where = key + "[" + std::to_string(i + 1) + "]";
    if (!stage.is_object() || !stage.contains("duration") || !stage.contains("target"))
      return fail(error, where + " must be {duration = \"...\", target = N}, got " + stage.dump());
    Stage parsed;
    if (!read_duration(stage["duration"], where + ".duration", &parsed.duration_ns, error)) return false;
    if (!read_count(stage["target"], where + ".target", &parsed.target, error)) return false;
    out->push_back(parsed);
  }
  return true;
}

}  // namespace detail

namespace {

using nlohmann::json;
using detail::fail;
using detail::read_count;
using detail::read_duration;

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
    return read_duration(rule["delayAbortEval"], "options.thresholds.delayAbortEval", &spec->delay_abort_eval_ns, error);
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

bool read_breaking_point(const json& value, BreakingPointOptions* out, std::string* error) {
  if (!value.is_object()) return fail(error, "options.breakingPoint must be a table, got " + value.dump());
  out->enabled = true;
  for (const auto& [key, item] : value.items()) {
    std::string where = "options.breakingPoint." + key;
    bool ok = true;
    if (key == "startRate") ok = read_count(item, where, &out->start_rate, error);
    else if (key == "stepRate") ok = read_count(item, where, &out->step_rate, error);
    else if (key == "stepDuration") ok = read_duration(item, where, &out->step_duration_ns, error);
    else if (key == "maxRate") ok = read_count(item, where, &out->max_rate, error);
    else if (key == "preAllocatedVUs") ok = read_count(item, where, &out->pre_allocated_vus, error);
    else if (key == "maxVUs") ok = read_count(item, where, &out->max_vus, error);
    else if (key == "maxErrorRate") {
      if (!item.is_number() || item.get<double>() < 0 || item.get<double>() > 1)
        return fail(error, where + " must be a number between 0 and 1, got " + item.dump());
      out->max_error_rate = item.get<double>();
    } else {
      return fail(error, where + " is not a breaking-point option (startRate, stepRate, stepDuration, maxRate, "
                                 "maxErrorRate, preAllocatedVUs, maxVUs)");
    }
    if (!ok) return false;
  }
  return true;
}

// One top-level key; unknown keys are ignored, as k6 does.
bool read_option(const std::string& key, const json& value, TestOptions* options, std::string* error) {
  const std::string where = "options." + key;
  if (key == "vus") {
    int64_t n = 0;
    if (!read_count(value, where, &n, error)) return false;
    options->vus = n;
  } else if (key == "iterations" || key == "duration") {
    int64_t n = 0;
    if (key == "iterations" ? !read_count(value, where, &n, error) : !read_duration(value, where, &n, error))
      return false;
    (key == "iterations" ? options->iterations : options->duration_ns) = n;
    options->script_shortcuts = true;
  } else if (key == "stages") {
    std::vector<Stage> stages;
    if (!detail::read_stages(value, where, &stages, error)) return false;
    options->stages = std::move(stages);
    options->script_shortcuts = true;
  } else if (key == "scenarios") {
    return detail::read_scenarios(value, &options->scenarios, error);
  } else if (key == "breakingPoint") {
    return read_breaking_point(value, &options->breaking_point, error);
  } else if (key == "gracefulStop") {
    return read_duration(value, where, &options->graceful_stop_ns, error);
  } else if (key == "setupTimeout") {
    return read_duration(value, where, &options->setup_timeout_ns, error);
  } else if (key == "teardownTimeout") {
    return read_duration(value, where, &options->teardown_timeout_ns, error);
  } else if (key == "vuEndTimeout") {
    return read_duration(value, where, &options->vu_end_timeout_ns, error);
  } else if (key == "maxRedirects") {
    int64_t n = 0;
    if (!read_count(value, where, &n, error)) return false;
    options->max_redirects = static_cast<int>(n);
  } else if (key == "insecureSkipTLSVerify") {
    if (!value.is_boolean()) return fail(error, "options.insecureSkipTLSVerify must be true or false");
    options->insecure_skip_tls_verify = value.get<bool>();
  } else if (key == "userAgent") {
    if (!value.is_string()) return fail(error, "options.userAgent must be a string");
    options->user_agent = value.get<std::string>();
  } else if (key == "thresholds") {
    return read_thresholds(value, &options->thresholds, error);
  }
  return true;
}

}  // namespace

bool parse_script_options(const json& json, TestOptions* options, std::string* error) {
  if (json.is_null() || (json.is_array() && json.empty())) return true;
  if (!json.is_object()) return fail(error, "options must be a table, got " + json.dump());
  for (const auto& [key, value] : json.items()) {
    if (!read_option(key, value, options, error)) return false;
  }
  return true;
}

bool parse_stage_flag(const std::string& text, std::vector<Stage>* stages, std::string* error) {
  stages->clear();
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = std::min(text.find(',', begin), text.size());
    std::string item = text.substr(begin, end - begin);
    size_t colon = item.find(':');
    Stage stage;
    auto duration = colon == std::string::npos ? std::nullopt : core::parse_duration(item.substr(0, colon));
    bool ok = duration.has_value();
    if (ok) {
      std::string target = item.substr(colon + 1);
      ok = !target.empty() && target.find_first_not_of("0123456789") == std::string::npos && target.size() < 10;
      if (ok) stage.target = std::stoll(target);
    }
    if (!ok) return fail(error, "--stage expects DURATION:TARGET[,DURATION:TARGET...] (like 5m:100,1h:100,5m:0), got \"" + item + "\"");
    stage.duration_ns = *duration;
    stages->push_back(stage);
    begin = end + 1;
  }
  return true;
}

const char* executor_name(Executor executor) {
  switch (executor) {
    case Executor::ConstantVus: return "constant-vus";
    case Executor::RampingVus: return "ramping-vus";
    case Executor::PerVuIterations: return "per-vu-iterations";
    case Executor::SharedIterations: return "shared-iterations";
    case Executor::ConstantArrivalRate: return "constant-arrival-rate";
    case Executor::RampingArrivalRate: return "ramping-arrival-rate";
  }
  return "?";
}

bool is_arrival_rate(Executor executor) {
  return executor == Executor::ConstantArrivalRate || executor == Executor::RampingArrivalRate;
}

int64_t scenario_duration_ns(const ScenarioConfig& scenario) {
  if (scenario.executor == Executor::RampingVus || scenario.executor == Executor::RampingArrivalRate) {
    int64_t total = 0;
    for (const auto& stage : scenario.stages) total += stage.duration_ns;
    return total;
  }
  return scenario.duration_ns;
}

int64_t scenario_max_vus(const ScenarioConfig& scenario) {
  switch (scenario.executor) {
    case Executor::RampingVus: {
      int64_t most = scenario.start_vus;
      for (const auto& stage : scenario.stages) most = std::max(most, stage.target);
      return most;
    }
    case Executor::ConstantArrivalRate:
    case Executor::RampingArrivalRate:
      return std::max(scenario.max_vus, scenario.pre_allocated_vus);
    default:
      return scenario.vus;
  }
}

int64_t scenario_end_with_grace_ns(const ScenarioConfig& scenario) {
  return scenario.start_time_ns + scenario_duration_ns(scenario) + scenario.graceful_stop_ns;
}

int64_t total_planned_ns(const std::vector<ScenarioConfig>& scenarios) {
  int64_t total = 0;
  for (const auto& scenario : scenarios) total = std::max(total, scenario_end_with_grace_ns(scenario));
  return total;
}

}  // namespace luaload::engine::schedule
