// SPDX-License-Identifier: MIT
#pragma once

#include <uv.h>

#include <memory>
#include <thread>
#include <vector>

#include "support/misbehaving_server.hpp"

namespace luaload::test {

// A MisbehavingServer on a loop and thread of its own, for tests whose own thread blocks (running the built binary
// with run_process) while the server answers.
//
// Lifecycle: construct (listening, not yet serving) -> start() (the thread runs the loop) -> stop() (the server is
// closed on its loop, the thread joined) -> destroy (stops if needed, then expects uv_loop_close == 0).
// Threading: the owning test thread calls every method. server() may be configured before start() and read after
// stop(); in between it belongs to the server thread, except port()/url(), which are fixed at construction.
class ServerThread {
 public:
  explicit ServerThread(std::vector<Reply> replies);
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;
  ~ServerThread();

  void start();
  // Idempotent; also closes a server that was never started, so the loop always ends clean.
  void stop();

  MisbehavingServer& server() { return *server_; }

 private:
  uv_loop_t loop_{};
  uv_async_t stop_{};
  std::unique_ptr<MisbehavingServer> server_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace luaload::test
