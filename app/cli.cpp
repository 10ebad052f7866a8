// SPDX-License-Identifier: MIT
#include "app/cli.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>

#include "app/demo_command.hpp"
#include "app/exit_codes.hpp"
#include "app/inspect_command.hpp"
#include "app/result_commands.hpp"
#include "app/run_flags.hpp"
#include "app/target_command.hpp"

namespace luaload::app {
namespace {

constexpr const char* kDescription =
    "luaload: scriptable load testing. Virtual users run Lua journeys over HTTP/1.1 and TLS;\n"
    "luaload measures every request, prints a summary and exits non-zero when a threshold fails.";

void print_version() { std::printf("luaload %s\n", LUALOAD_VERSION); }

bool is_command(CLI::App& root, const std::string& word) {
  for (const CLI::App* command : root.get_subcommands({})) {
    if (command->get_name() == word) return true;
  }
  return false;
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App root{kDescription, "luaload"};
  root.require_subcommand(1);
  root.fallthrough(false);

  int exit_code = kExitOk;
  RunFlags run_flags;
  CLI::App* run = add_run_command(root, run_flags, exit_code);
  // `target` runs from its CLI11 callback during parse() and leaves its code in exit_code.
  add_target_command(root, exit_code);
  // `report`, `compare` and `trend` also run from their callbacks.
  add_result_commands(root, exit_code);
  DemoFlags demo_flags;
  CLI::App* demo = add_demo_command(root, demo_flags);
  RunFlags inspect_flags;
  CLI::App* inspect = add_inspect_command(root, inspect_flags);
  CLI::App* version = root.add_subcommand("version", "Print the version");
  CLI::App* help = root.add_subcommand("help", "Show this help");

  try {
    root.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return root.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    // For `luaload runn x.lua` CLI11 only says "A subcommand is required"; name the word that is not a command.
    if (argc > 1 && argv[1][0] != '-' && !is_command(root, argv[1])) {
      message = "unknown command \"" + std::string(argv[1]) + "\"";
    }
    std::fprintf(stderr, "luaload: %s\nRun 'luaload help' for usage.\n", message.c_str());
    return kExitInvalidConfig;
  }

  if (version->parsed()) {
    print_version();
    return kExitOk;
  }
  if (help->parsed()) {
    // root.help() would describe the chosen subcommand ("help" itself): format the root explicitly.
    std::printf("%s", root.get_formatter()->make_help(&root, "luaload", CLI::AppFormatMode::Normal).c_str());
    return kExitOk;
  }
  if (run->parsed()) return run_test(run_flags);
  if (inspect->parsed()) return run_inspect(inspect_flags);
  if (demo->parsed()) return run_demo(demo_flags);
  return exit_code;
}

}  // namespace luaload::app
