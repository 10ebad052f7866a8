// SPDX-License-Identifier: MIT
#include "app/target_command.hpp"

#include <uv.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "app/exit_codes.hpp"
#include "engine/target/option_parsing.hpp"
#include "engine/target/stdio_server.hpp"
#include "engine/target/target_server.hpp"

namespace luaload::app {
namespace {

namespace target = engine::target;

struct TargetFlags {
  std::string listen = "127.0.0.1:8080";
  int threads = 1;
  std::string tls_cert;
  std::string tls_key;
  std::string token_ttl;
  std::string token_format = "opaque";
  std::string error_rate;
  std::vector<std::string> route_latency;
  std::string mcp_sse = "auto";
  std::string mcp_era = "both";
  bool mcp_fixtures = false;
  std::string mcp_cache_ttl;
  std::string mcp_retry;
  std::string mcp_listen_timeout;
  bool stdio = false;
};

bool build_mcp_options(const TargetFlags& flags, target::TargetOptions* options, std::string* error) {
  if (!target::parse_mcp_sse(flags.mcp_sse, options, error)) return false;
  if (!target::parse_mcp_era(flags.mcp_era, options, error)) return false;
  options->mcp_fixtures = flags.mcp_fixtures;
  struct Timing {
    const char* flag;
    const std::string& text;
    int64_t* ms;
  };
  Timing timings[] = {{"--mcp-cache-ttl", flags.mcp_cache_ttl, &options->mcp_cache_ttl_ms},
                      {"--mcp-retry", flags.mcp_retry, &options->mcp_retry_ms},
                      {"--mcp-listen-timeout", flags.mcp_listen_timeout, &options->mcp_listen_timeout_ms}};
  for (const Timing& t : timings) {
    if (!t.text.empty() && !target::parse_mcp_duration(t.flag, t.text, t.ms, error)) return false;
  }
  return true;
}

bool build_options(const TargetFlags& flags, target::TargetOptions* options, std::string* error) {
  if (!target::parse_listen(flags.listen, options, error)) return false;
  if (flags.threads < 1) return *error = "--threads must be at least 1", false;
  options->threads = flags.threads;
  options->tls_cert_file = flags.tls_cert;
  options->tls_key_file = flags.tls_key;
  if (!flags.token_ttl.empty() && !target::parse_token_ttl(flags.token_ttl, options, error)) return false;
  if (!target::parse_token_format(flags.token_format, options, error)) return false;
  if (!flags.error_rate.empty() && !target::parse_error_rate(flags.error_rate, options, error)) return false;
  for (const std::string& spec : flags.route_latency) {
    if (!target::parse_route_latency(spec, options, error)) return false;
  }
  return build_mcp_options(flags, options, error);
}

void on_signal_cb(uv_signal_t* handle, int) {
  // Closing both signal handles lets the waiting loop end; the server is stopped after it returns.
  uv_walk(handle->loop, [](uv_handle_t* h, void*) {
    if (!uv_is_closing(h)) uv_close(h, nullptr);
  }, nullptr);
}

// Blocks the calling thread until SIGINT or SIGTERM.
void wait_for_signal() {
  uv_loop_t loop;
  uv_loop_init(&loop);
  uv_signal_t sigint, sigterm;
  uv_signal_init(&loop, &sigint);
  uv_signal_init(&loop, &sigterm);
  uv_signal_start(&sigint, on_signal_cb, SIGINT);
  uv_signal_start(&sigterm, on_signal_cb, SIGTERM);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
}

int run_target(const TargetFlags& flags) {
  target::TargetOptions options;
  std::string error;
  if (!build_options(flags, &options, &error)) {
    std::fprintf(stderr, "luaload target: %s\n", error.c_str());
    return kExitInvalidConfig;
  }
  if (flags.stdio) {
    const int code = target::run_stdio_server(options, &error);
    if (code != 0) std::fprintf(stderr, "luaload target --stdio: %s\n", error.c_str());
    return code == 0 ? kExitOk : kExitInvalidConfig;
  }
  auto server = target::TargetServer::create(options, &error);
  if (!server) {
    std::fprintf(stderr, "luaload target: %s\n", error.c_str());
    return kExitInvalidConfig;
  }
  std::printf("luaload target listening on %s\n", server->url().c_str());
  std::fflush(stdout);
  wait_for_signal();
  std::printf("luaload target stopping\n");
  std::fflush(stdout);
  return server->stop() ? kExitOk : 1;
}

}  // namespace

CLI::App* add_target_command(CLI::App& root, int& exit_code) {
  auto flags = std::make_shared<TargetFlags>();
  CLI::App* cmd = root.add_subcommand("target", "Run the built-in target server (see docs/target.md)");
  cmd->add_option("--listen", flags->listen, "Address to listen on, HOST:PORT (default 127.0.0.1:8080; port 0 = any)");
  cmd->add_option("--threads", flags->threads, "Server threads, each with its own loop (default 1)");
  cmd->add_option("--tls-cert", flags->tls_cert, "PEM certificate chain: serve HTTPS (needs --tls-key)");
  cmd->add_option("--tls-key", flags->tls_key, "PEM private key for --tls-cert");
  cmd->add_option("--token-ttl", flags->token_ttl, "OAuth access token lifetime, e.g. 30s (default 1h)");
  cmd->add_option("--token-format", flags->token_format,
                  "OAuth access tokens: opaque (default) or jwt (RFC 9068, ES256, verifiable at /oauth/jwks)");
  cmd->add_option("--error-rate", flags->error_rate, "Probability of a 500/503 on every /content route (0..1)");
  cmd->add_option("--route-latency", flags->route_latency,
                  "ROUTE=SPEC for /content/ROUTE, e.g. fast=fixed:2ms, mixed=lognormal:median=20ms,p99=200ms "
                  "(repeatable)");
  cmd->add_option("--mcp-sse", flags->mcp_sse, "When /mcp answers with SSE: auto (default), always, never");
  cmd->add_option("--mcp-era", flags->mcp_era, "MCP eras /mcp serves: both (default), modern (2026-07-28), legacy");
  cmd->add_flag("--mcp-fixtures", flags->mcp_fixtures,
                "List the conformance and feature fixtures (test_* tools, test:// resources) in the MCP lists");
  cmd->add_option("--mcp-cache-ttl", flags->mcp_cache_ttl, "ttlMs of cacheable 2026-07-28 results (default 5m)");
  cmd->add_option("--mcp-retry", flags->mcp_retry, "SSE retry: of resumable 2025-11-25 streams (default 1s)");
  cmd->add_option("--mcp-listen-timeout", flags->mcp_listen_timeout,
                  "End subscriptions/listen streams gracefully after this long (default 0: never)");
  cmd->add_flag("--stdio", flags->stdio,
                "Serve the MCP methods on stdin/stdout (one client, both eras) instead of listening: for mcp.spawn");
  cmd->callback([flags, &exit_code] { exit_code = run_target(*flags); });
  return cmd;
}

}  // namespace luaload::app
