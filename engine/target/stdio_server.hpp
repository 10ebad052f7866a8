// SPDX-License-Identifier: MIT
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "engine/target/target_options.hpp"

namespace luaload::engine::target {

struct StdioState;  // stdio_server.cpp

// The built-in target's MCP methods (mcp_methods.hpp) served over stdio: newline-delimited JSON-RPC read from
// in_fd, written to out_fd, for one client (the process that started us). Both eras, as --mcp-era says:
// `initialize` opens the process's one legacy session (legacy state: log level, resource subscriptions, the
// server requests awaiting answers); requests carrying the 2026-07-28 _meta envelope are served statelessly.
// notifications/cancelled stops the exchange it names (a listen stream included) and nothing more is sent for it.
// After initialize, list changes and updates of subscribed resources are sent as legacy notifications.
//
// Backpressure: past kMaxUnwrittenBytes of output the client has not read, input is no longer read.
// Threading: the loop's thread only. Lifecycle: construct -> start() -> (on_end: the client closed our stdin or
// stopped reading our stdout) -> close(on_closed) -> on_closed (a later loop turn) -> destroy.
class StdioServer {
 public:
  static constexpr size_t kMaxUnwrittenBytes = 16 * 1024 * 1024;

  StdioServer(uv_loop_t* loop, const TargetOptions& options);
  StdioServer(const StdioServer&) = delete;
  StdioServer& operator=(const StdioServer&) = delete;
  ~StdioServer();

  // Starts reading in_fd (a pipe, socket or terminal). false and *error when a descriptor cannot be used.
  // on_end runs at most once, when the client is gone; the owner then calls close().
  bool start(int in_fd, int out_fd, std::function<void()> on_end, std::string* error);
  // Drops the exchanges in flight, lets what was written drain, closes every handle; on_closed runs once, later.
  void close(std::function<void()> on_closed);

 private:
  std::shared_ptr<StdioState> state_;
};

// `luaload target --stdio`: runs a StdioServer on fds 0 and 1 in a loop of its own until stdin ends, stdout breaks,
// or SIGINT/SIGTERM. Returns 0, or 1 with *error when stdin or stdout cannot be used.
int run_stdio_server(const TargetOptions& options, std::string* error);

}  // namespace luaload::engine::target
