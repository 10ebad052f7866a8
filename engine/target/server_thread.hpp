// SPDX-License-Identifier: MIT
#pragma once

#include <uv.h>

#include <string>
#include <unordered_set>

#include "engine/target/connection.hpp"

namespace luaload::engine::target {

// The per-loop half of the target server: one listening socket (its own, bound with SO_REUSEPORT so the kernel
// spreads connections across threads) and the connections it accepted.
//
// Threading: constructed anywhere; open() and close() on the loop thread only. Ownership: owns its connections
// (deleted in their last close callback); must outlive the loop run that close() winds down.
class ServerThread {
 public:
  ServerThread(ServerState& state, tls::ServerContext* tls);
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;

  // Adopts a bound, listening socket `fd` (ownership passes to the handle) and starts accepting. False on failure,
  // in which case the fd is closed and nothing is left open on the loop.
  bool open(uv_loop_t* loop, int fd);
  // Closes the listener and every connection. The loop ends once their close callbacks have run.
  void close();

  void on_connection(int status);
  void on_connection_closed(Connection* connection);

 private:
  ServerState& state_;
  tls::ServerContext* tls_;
  uv_loop_t* loop_ = nullptr;
  uv_tcp_t listener_{};
  bool listening_ = false;
  std::string read_buffer_;
  std::unordered_set<Connection*> connections_;
};

}  // namespace luaload::engine::target
