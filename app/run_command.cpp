// SPDX-License-Identifier: MIT
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "app/early_interrupt.hpp"
#include "app/exit_codes.hpp"
#include "app/result_files.hpp"
#include "app/run_flags.hpp"
#include "app/test_run.hpp"
#include "bindings/worker_runtime.hpp"
#include "engine/core/duration.hpp"
#include "engine/metrics/store.hpp"
#include "engine/metrics/threshold.hpp"
#include "engine/tls/client_context.hpp"

namespace luaload::app {
namespace {

int config_error(const std::string& message) {
  std::fprintf(stderr, "luaload: invalid configuration: %s\n", message.c_str());
  return kExitInvalidConfig;
}

// Memory, not the CLI, would otherwise refuse a typo like -u 10000000000 (with a std::bad_alloc after eating RAM).
constexpr int64_t kMaxVus = 1'000'000;

bool read_file(const std::string& path, std::string* out, std::string* error) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    *error = "cannot read script \"" + path + "\": it is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read script \"" + path + "\"";
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *out = buffer.str();
  return true;
}

bool parse_env_flags(const std::vector<std::string>& pairs, std::map<std::string, std::string>* env,
                     std::string* error) {
  for (const auto& pair : pairs) {
    auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      *error = "-e expects KEY=VALUE, got \"" + pair + "\"";
      return false;
    }
    (*env)[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return true;
}

// Flags win over the script's options, as in k6.
bool apply_flags(const RunFlags& flags, engine::schedule::TestOptions* options, std::string* error) {
  if (flags.vus) {
    if (*flags.vus < 1) {
      *error = "--vus must be at least 1, got " + std::to_string(*flags.vus);
      return false;
    }
    options->vus = *flags.vus;
  }
  if (flags.duration) {
    auto ns = core::parse_duration(*flags.duration);
    if (!ns || *ns <= 0) {
      *error = "--duration is not a duration (like 30s, 5m, 1h30m): \"" + *flags.duration + "\"";
      return false;
    }
    options->duration_ns = *ns;
    options->cli_shortcuts = true;
    // -d without -i means a duration-based run even if the script set iterations or stages (k6 does the same).
    if (!flags.iterations) options->iterations.reset();
    if (!flags.stages) options->stages.reset();
  }
  if (flags.iterations) {
    if (*flags.iterations < 1) {
      *error = "--iterations must be at least 1, got " + std::to_string(*flags.iterations);
      return false;
    }
    options->iterations = *flags.iterations;
    options->cli_shortcuts = true;
    if (!flags.duration) options->duration_ns.reset();
    if (!flags.stages) options->stages.reset();
  }
  if (flags.stages) {
    std::vector<engine::schedule::Stage> stages;
    if (!engine::schedule::parse_stage_flag(*flags.stages, &stages, error)) return false;
    options->stages = std::move(stages);
    options->cli_shortcuts = true;
    if (!flags.duration) options->duration_ns.reset();
    if (!flags.iterations) options->iterations.reset();
  }
  if (flags.find_breaking_point) options->breaking_point.enabled = true;
  if (flags.vus && !options->scenarios.empty() && !options->cli_shortcuts && !options->breaking_point.enabled)
    std::fprintf(stderr, "luaload: warning: -u applies to the shortcut scenario only; the script's "
                         "options.scenarios set their own VUs (add -d, -i or --stage to replace them)\n");
  if (flags.insecure) options->insecure_skip_tls_verify = true;
  if (flags.no_thresholds) options->thresholds.clear();
  return true;
}

// Every scenario's exec must name a global function of the script (k6 refuses to start otherwise).
// The names come from the options-reading init run: running the init code again only for this doubled the start-up
// of a script with a heavy init (and what a Ctrl-C during it had to wait for).
bool check_exec_functions(const TestRunConfig& config, const std::set<std::string>& functions, std::string* error) {
  for (const auto& scenario : config.scenarios) {
    if (functions.count(scenario.exec) != 0) continue;
    *error = "scenario \"" + scenario.name + "\": exec function \"" + scenario.exec + "\" is not defined by the script";
    return false;
  }
  return true;
}

// Checks made before any VU starts, so that a typo is a 104 naming it rather than a crash or a silently dropped
// threshold (the run's report would otherwise skip thresholds it cannot parse). `defined` is every metric known
// after the init code ran (builtins and custom metrics): a threshold on any other name is a typo, judged now as
// k6 does, not after the whole test ran.
bool check_limits_and_thresholds(const TestRunConfig& config, int64_t most_vus,
                                 const std::vector<engine::metrics::MetricDef>& defined, std::string* error) {
  if (most_vus > kMaxVus) {
    *error = "at most " + std::to_string(kMaxVus) + " VUs are supported, the test asks for " + std::to_string(most_vus);
    return false;
  }
  auto thresholds = engine::metrics::ThresholdSet::parse(config.options.thresholds, error);
  if (!thresholds) return false;
  engine::metrics::Delta known;
  known.definitions = defined;
  engine::metrics::Store store;
  store.merge(known);
  return thresholds->validate(store, error);
}

// Every worker loads --ca when it starts; a bad file is a flag error (104) before that, not a script error.
bool check_ca_file(const std::string& path, std::string* error) {
  if (path.empty()) return true;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || !std::ifstream(path)) {
    *error = "--ca: cannot read \"" + path + "\"";
    return false;
  }
  engine::tls::ClientOptions options;
  options.ca_file = path;
  if (engine::tls::ClientContext::create(options, error) == nullptr) {
    *error = "--ca: " + *error;
    return false;
  }
  return true;
}

// "512MB", "2GB", "64M", "1g", "1048576" (bytes), "0" (no limit); units are powers of 1024.
std::optional<size_t> parse_memory_size(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  const uint64_t number = std::stoull(text.substr(0, digits));
  std::string unit = text.substr(digits);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = 0;
  if (unit == "" || unit == "B") shift = 0;
  else if (unit == "K" || unit == "KB") shift = 10;
  else if (unit == "M" || unit == "MB") shift = 20;
  else if (unit == "G" || unit == "GB") shift = 30;
  else return std::nullopt;
  const uint64_t bytes = number << shift;
  if (number != 0 && bytes < (8u << 20)) return std::nullopt;  // below 8 MB not even the libraries fit
  return static_cast<size_t>(bytes);
}

// Half the machine's physical memory, shared by the workers: a runaway script fails its iterations before the
// machine swaps or the OOM killer picks a process.
size_t default_lua_memory_limit(int workers) {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return 0;
  const uint64_t physical = static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size);
  return static_cast<size_t>(physical / 2 / static_cast<uint64_t>(std::max(1, workers)));
}

}  // namespace

CLI::App* add_run_command(CLI::App& root, RunFlags& flags, int& exit_code) {
  CLI::App* run = root.add_subcommand("run", "Run a load test script");
  run->add_option("script", flags.script, "The Lua script to run")->required();
  run->add_option("-u,--vus", flags.vus, "Number of virtual users");
  run->add_option("-d,--duration", flags.duration, "Test duration, e.g. 30s, 5m, 1h30m");
  run->add_option("-i,--iterations", flags.iterations, "Total iterations shared by all VUs");
  run->add_option("-e,--env", flags.env, "Environment variable for the script, KEY=VALUE (repeatable)")
      ->allow_extra_args(false);  // one value per -e: `-e K=V script.lua` must not take the script as a value
  run->add_option("--threads", flags.threads, "Worker threads (default: one per core)");
  run->add_flag("--insecure", flags.insecure, "Skip TLS certificate verification");
  run->add_option("--ca", flags.ca_file, "Extra CA certificate file (PEM) to trust");
  run->add_option("--summary-export", flags.summary_export, "Write the end-of-test summary as JSON to this file");
  run->add_flag("--no-thresholds", flags.no_thresholds, "Do not evaluate thresholds");
  run->add_flag("-q,--quiet", flags.quiet, "No live progress");
  run->add_flag("--no-summary", flags.no_summary, "No end-of-test summary on stdout (files and exit code as usual)");
  run->add_option("--max-lua-memory", flags.max_lua_memory,
                  "Lua heap limit per worker, e.g. 512MB or 2GB; 0 for none (default: half the RAM over the workers)");
  run->add_option("--grace", flags.grace, "How long running iterations get to finish after Ctrl-C (default 30s)");
  run->add_option("-s,--stage", flags.stages, "Ramping VUs, DURATION:TARGET[,...], e.g. 5m:100,1h:100,5m:0")
      ->allow_extra_args(false);
  run->add_flag("--find-breaking-point", flags.find_breaking_point,
                "Raise the arrival rate in steps until a threshold fails (see docs/scenarios.md)");
  run->add_option("-o,--out", flags.outs, "Stream results: json=FILE or csv=FILE, [:aggregate=1s] (repeatable)")
      ->allow_extra_args(false);
  run->add_option("--junit", flags.junit, "Write thresholds and checks as JUnit XML to this file");
  run->add_option("--metrics-addr", flags.metrics_addr, "Serve live Prometheus metrics at IP:PORT/metrics");
  run->add_option("--report", flags.report_html, "Write the self-contained HTML report to this file");
  run->add_option("--baseline", flags.baseline, "Compare the results with this summary export at the end");
  run->add_option("--max-regression", flags.max_regression, "Tolerances for --baseline, e.g. p95=10%,error_rate=0.5pp");
  run->add_option("--save-baseline", flags.save_baseline, "Write the summary export to this file as a baseline");
  run->add_option("--history", flags.history_dir, "Add this run's summary export to a history directory");
  return run;
}

int run_test(const RunFlags& flags) {
  std::string code;
  std::string error;
  if (!read_file(flags.script, &code, &error)) return config_error(error);
  return run_test_source(flags, code);
}

int run_test_source(const RunFlags& flags, const std::string& code) {
  catch_early_interrupts();  // the script's init code runs below, before the run's loop exists
  TestRunConfig config;
  if (int exit = prepare_run_config(flags, code, &config); exit != kExitOk) return exit;
  TestRun run(std::move(config));
  return run.execute();
}

int prepare_run_config(const RunFlags& flags, const std::string& code, TestRunConfig* out) {
  TestRunConfig& config = *out;
  config.script.path = flags.script;
  config.script.code = code;
  std::string error;
  if (!parse_env_flags(flags.env, &config.runtime.env, &error)) return config_error(error);
  config.runtime.ca_file = flags.ca_file;
  if (!check_ca_file(flags.ca_file, &error)) return config_error(error);
  if (flags.threads && *flags.threads < 1) return config_error("--threads must be at least 1");
  config.threads = flags.threads.value_or(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  // Known before the options are read: the init code run for them is held to the same limit.
  if (!flags.max_lua_memory.empty()) {
    auto bytes = parse_memory_size(flags.max_lua_memory);
    if (!bytes) return config_error("--max-lua-memory is not a size (e.g. 512MB, 2GB, 0): \"" + flags.max_lua_memory + "\"");
    config.runtime.lua_memory_limit = *bytes;
  } else {
    config.runtime.lua_memory_limit = default_lua_memory_limit(config.threads);
  }
  auto grace = core::parse_duration(flags.grace);
  if (!grace) return config_error("--grace is not a duration: \"" + flags.grace + "\"");
  config.interrupt_grace_ns = *grace;
  config.summary_export = flags.summary_export;
  if (!check_output_file(flags.summary_export, "--summary-export", &error)) return config_error(error);
  config.quiet = flags.quiet;
  config.no_summary = flags.no_summary;
  for (const auto& out : flags.outs) {
    auto spec = parse_out_spec(out, &error);
    if (!spec) return config_error(error);
    config.outs.push_back(*spec);
  }
  config.junit = flags.junit;
  if (!check_output_file(flags.junit, "--junit", &error)) return config_error(error);
  config.metrics_addr = flags.metrics_addr;
  config.result_files.report_html = flags.report_html;
  config.result_files.save_baseline = flags.save_baseline;
  config.result_files.history_dir = flags.history_dir;
  if (!prepare_result_files(flags.baseline, flags.max_regression, &config.result_files, &error))
    return config_error(error);

  // The script's options come from running its init code once, in a throw-away Lua state.
  bindings::ScriptFacts facts;
  auto options_json = bindings::read_script_options(config.script, config.runtime, &error, &facts,
                                                    [] { return early_interrupt_pending(); });
  // A Ctrl-C stopped the init code: the run goes on with default options only to stop at once, writing the (empty)
  // summary and every promised file, and exiting 105 (TestRun sees the pending interrupt).
  const bool interrupted = !options_json && early_interrupt_pending();
  if (interrupted) options_json = "{}";
  if (!options_json) return init_failure(error);
  nlohmann::json parsed = nlohmann::json::parse(*options_json, nullptr, false);
  if (parsed.is_discarded()) return config_error("options could not be read: " + *options_json);
  if (!engine::schedule::parse_script_options(parsed, &config.options, &error)) return config_error(error);
  if (!apply_flags(flags, &config.options, &error)) return config_error(error);
  if (!engine::schedule::resolve_scenarios(config.options, &config.scenarios, &error)) return config_error(error);
  if (!interrupted && !check_exec_functions(config, facts.functions, &error)) return config_error(error);
  config.runtime.insecure_skip_tls_verify = config.options.insecure_skip_tls_verify.value_or(false);
  config.runtime.max_redirects = config.options.max_redirects.value_or(10);
  if (config.options.user_agent) config.runtime.user_agent = *config.options.user_agent;
  int64_t most_vus = 0;
  for (const auto& scenario : config.scenarios) most_vus += engine::schedule::scenario_max_vus(scenario);
  if (!check_limits_and_thresholds(config, most_vus, facts.metrics, &error)) return config_error(error);
  config.known_metrics = std::move(facts.metrics);
  config.threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(config.threads, most_vus)));
  return kExitOk;
}

}  // namespace luaload::app
