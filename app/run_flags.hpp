// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace luaload::app {

struct TestRunConfig;

// `luaload run` flags as typed; validated and merged over the script's options by the run command.
struct RunFlags {
  std::string script;
  std::optional<int64_t> vus;
  std::optional<std::string> duration;
  std::optional<int64_t> iterations;
  std::vector<std::string> env;  // KEY=VALUE
  std::optional<int> threads;
  bool insecure = false;
  std::string ca_file;
  std::string summary_export;
  bool no_thresholds = false;
  bool quiet = false;
  bool no_summary = false;
  std::string grace = "30s";
  std::string max_lua_memory;  // --max-lua-memory 512MB: per worker; empty: half the physical memory over the workers
  std::optional<std::string> stages;  // --stage 5m:100,1h:100,5m:0
  bool find_breaking_point = false;
  std::vector<std::string> outs;  // --out json=FILE[:aggregate=1s] | csv=FILE[...]
  std::string junit;
  std::string metrics_addr;
  std::string report_html;     // --report
  std::string baseline;        // --baseline
  std::string max_regression;  // --max-regression (empty: the default tolerances)
  std::string save_baseline;   // --save-baseline
  std::string history_dir;     // --history
};

// Registers the `run` subcommand on `root`; when it is chosen, *exit_code receives the run's exit code.
CLI::App* add_run_command(CLI::App& root, RunFlags& flags, int& exit_code);

// Runs a test with these flags; returns the exit code. Prints to stdout (summary) and stderr (progress, errors).
int run_test(const RunFlags& flags);
// The same with the script's text given (flags.script is then only its name in messages).
int run_test_source(const RunFlags& flags, const std::string& code);

// Reads the script's options, merges the flags and resolves the scenarios into *config, without running anything.
// kExitOk, or the exit code with the error already printed.
int prepare_run_config(const RunFlags& flags, const std::string& code, TestRunConfig* config);

}  // namespace luaload::app
