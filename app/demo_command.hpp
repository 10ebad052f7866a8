// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace luaload::app {

struct DemoFlags {
  int64_t vus = 20;
  std::string duration = "20s";
  bool quiet = false;
  std::string example = "oauth_refresh";
};

// `luaload demo`: the built-in target started in-process, and a real load test (examples/oauth_refresh.lua, or
// another embedded example chosen with --example) against it, so the product can be seen working with nothing
// else running.
CLI::App* add_demo_command(CLI::App& root, DemoFlags& flags);
int run_demo(const DemoFlags& flags);

}  // namespace luaload::app
