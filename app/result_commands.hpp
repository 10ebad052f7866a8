// SPDX-License-Identifier: MIT
#pragma once

namespace CLI {
class App;
}

namespace luaload::app {

// `luaload report SUMMARY.json -o FILE.html`: renders the HTML report from a saved summary export.
// `luaload compare BASELINE.json CURRENT.json [--max-regression ...]`: prints the comparison table; exit code
//   kExitRegression when a figure regressed beyond its tolerance.
// `luaload trend DIR [--report trend.html] [--metric METRIC:STAT]...`: prints a table of metrics across the
//   summaries of a history directory and optionally charts them.
// Each subcommand's callback runs during root.parse() and stores its exit code in exit_code (104 for bad input:
// unreadable files, bad tolerances or metric names). Main thread only. Documented in docs/outputs.md.
void add_result_commands(CLI::App& root, int& exit_code);

}  // namespace luaload::app
