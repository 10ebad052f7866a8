// SPDX-License-Identifier: MIT
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/target/target_options.hpp"

namespace luaload::engine::loop {
class Worker;
}
namespace luaload::engine::tls {
class ServerContext;
}

namespace luaload::engine::target {

struct ServerState;
class ServerThread;

// The built-in target server: an HTTP/1.1 (optionally TLS) server for examples, demos, tests and benchmarks, with
// the routes listed in docs/target.md.
//
// Each of options.threads worker threads runs its own uv loop and accepts on its own socket bound to the same
// address with SO_REUSEPORT. The sockets are bound and listening before create() returns, so clients may connect
// right away; requests are served once the threads are up.
//
// Threading: create(), port(), url(), stop() and the destructor from one controlling thread (usually main).
// Lifecycle: create() -> serving -> stop() (closes every listener and connection, joins the threads) -> stopped.
class TargetServer {
 public:
  // nullptr with *error set (one line naming the bad option) when the options are invalid, the address cannot be
  // bound, or the TLS certificate/key cannot be loaded.
  static std::unique_ptr<TargetServer> create(const TargetOptions& options, std::string* error);
  ~TargetServer();  // stop()
  TargetServer(const TargetServer&) = delete;
  TargetServer& operator=(const TargetServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:8080" (https when TLS is on, IPv6 hosts in brackets).
  std::string url() const;
  // Idempotent. Returns true when every thread's loop closed with uv_loop_close() == 0.
  bool stop();

 private:
  TargetServer() = default;
  // Starts one worker per listening fd; each adopts its fd on its own loop thread.
  void start_threads(const std::vector<int>& fds);

  std::unique_ptr<ServerState> state_;
  std::unique_ptr<tls::ServerContext> tls_;
  std::vector<std::unique_ptr<ServerThread>> threads_;
  std::vector<std::unique_ptr<loop::Worker>> workers_;
  std::string host_;
  int port_ = 0;
  bool stopped_ = false;
  bool clean_ = true;
};

}  // namespace luaload::engine::target
