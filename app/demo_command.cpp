// SPDX-License-Identifier: MIT
#include "app/demo_command.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "app/exit_codes.hpp"
#include "app/run_flags.hpp"
#include "app/test_run.hpp"
#include "app/embedded_examples.hpp"
#include "engine/target/target_server.hpp"

namespace luaload::app {

CLI::App* add_demo_command(CLI::App& root, DemoFlags& flags) {
  CLI::App* demo = root.add_subcommand("demo", "Start the built-in target in-process and run an example against it");
  demo->add_option("-u,--vus", flags.vus, "Virtual users (default 20)");
  demo->add_option("-d,--duration", flags.duration, "Duration (default 20s)");
  demo->add_flag("-q,--quiet", flags.quiet, "No live progress");
  std::vector<std::string> names;
  for (const EmbeddedExample& example : kDemoExamples) names.emplace_back(example.name);
  demo->add_option("--example", flags.example, "The example to run (default oauth_refresh)")
      ->check(CLI::IsMember(names));
  return demo;
}

namespace {

// Tokens expire every few seconds, so a 20 s demo shows logins, refreshes and renewals in its summary.
constexpr int64_t kDemoTokenTtlMs = 5'000;

const EmbeddedExample& demo_example(const std::string& name) {
  for (const EmbeddedExample& example : kDemoExamples) {
    if (example.name == name) return example;
  }
  return kDemoExamples[0];
}

}  // namespace

int run_demo(const DemoFlags& flags) {
  const EmbeddedExample& example = demo_example(flags.example);
  const std::string source(example.text);
  RunFlags run;
  run.script = "examples/" + std::string(example.name) + ".lua";
  run.vus = flags.vus;
  run.duration = flags.duration;
  run.quiet = flags.quiet;
  // Bad flags are reported before the banner and before the target starts; the URL is known only after that.
  TestRunConfig checked;
  run.env.push_back("TARGET=http://127.0.0.1:1");
  if (int exit = prepare_run_config(run, source, &checked); exit != kExitOk) return exit;
  run.env.clear();
  engine::target::TargetOptions options;
  options.threads = 1;
  options.token_ttl_ms = kDemoTokenTtlMs;
  std::string error;
  auto target = engine::target::TargetServer::create(options, &error);
  if (!target) {
    std::fprintf(stderr, "luaload: cannot start the built-in target: %s\n", error.c_str());
    return kExitInvalidConfig;
  }
  std::fprintf(stderr, "luaload demo: built-in target on %s, running %s with %lld VUs for %s\n", target->url().c_str(),
               run.script.c_str(), static_cast<long long>(flags.vus), flags.duration.c_str());
  run.env.push_back("TARGET=" + target->url());
  int code = run_test_source(run, source);
  target->stop();
  return code;
}

}  // namespace luaload::app
