// SPDX-License-Identifier: MIT
#pragma once

#include "app/run_flags.hpp"

namespace CLI {
class App;
}

namespace luaload::app {

// `luaload inspect SCRIPT [-u N] [-d D] [-i N] [-s STAGES] [-e K=V] [--find-breaking-point]`: prints the scenarios
// the run would execute (name, executor, key parameters, start, duration including graceful stop) and the total
// planned duration, without running anything. Exit codes as `run` for bad options (104) and script errors (107).
CLI::App* add_inspect_command(CLI::App& root, RunFlags& flags);
int run_inspect(const RunFlags& flags);

}  // namespace luaload::app
