// SPDX-License-Identifier: MIT
#pragma once

namespace luaload::app {

// The whole command line: parses argv, runs the chosen subcommand, returns the process exit code.
int run_cli(int argc, char** argv);

}  // namespace luaload::app
