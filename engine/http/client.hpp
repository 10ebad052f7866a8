// SPDX-License-Identifier: MIT
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "engine/http/types.hpp"

namespace luaload::engine::net {
class DnsCache;
}
namespace luaload::engine::tls {
class ClientContext;
}

namespace luaload::engine::http {

// Per-worker things every Client on that worker shares. Owned by the worker, outlives its Clients.
struct ClientEnvironment {
  uv_loop_t* loop = nullptr;
  net::DnsCache* dns = nullptr;
  tls::ClientContext* tls = nullptr;  // may be null: https:// requests then fail with ErrorCode::Tls
  // A read buffer shared by all connections of the worker: parsing is synchronous inside the read callback, so an
  // idle keep-alive connection pins no buffer of its own.
  std::vector<char>* read_buffer = nullptr;
};

// An HTTP/1.1 client belonging to one VU: it keeps that VU's keep-alive connections, one per scheme+host+port, as
// a browser would (a second concurrent request to the same origin opens a second connection).
//
// Threading: loop thread only. Completion: `done` runs exactly once, on the loop, never from inside send(); also on
// cancel() (with ErrorCode::Cancelled) and when the Client is closed with requests in flight.
//
// Lifecycle: construct -> send()* -> close(on_closed) -> (all sockets closed) on_closed -> destroy.
class Client {
 public:
  using RequestId = uint64_t;
  using Completion = std::function<void(Response&&)>;

  explicit Client(const ClientEnvironment& env);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  RequestId send(Request request, Completion done);
  void cancel(RequestId id);

  // Cancels in-flight requests, closes every connection; on_closed runs from the last close callback (on a later
  // loop turn even if nothing was open).
  void close(std::function<void()> on_closed);

  size_t open_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace luaload::engine::http
