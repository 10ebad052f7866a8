// SPDX-License-Identifier: MIT
#pragma once

namespace CLI {
class App;
}

namespace luaload::app {

// Registers `luaload target`: runs the built-in target server (engine/target, routes in docs/target.md) in the
// foreground until SIGINT or SIGTERM, after printing "luaload target listening on http://HOST:PORT".
// The subcommand's callback does the work during root.parse() and stores the result in exit_code: 0 after a clean
// shutdown, 104 (invalid config) for bad flags or an address that cannot be bound. The flags' storage lives as long
// as the returned App. Main thread only. To run the target in-process instead (luaload demo), use
// engine::target::TargetServer directly.
CLI::App* add_target_command(CLI::App& root, int& exit_code);

}  // namespace luaload::app
