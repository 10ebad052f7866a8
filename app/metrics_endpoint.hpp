// SPDX-License-Identifier: MIT
#pragma once

#include <uv.h>

#include <functional>
#include <string>

namespace luaload::app {

// --metrics-addr: a tiny HTTP/1.x server on the main thread's loop that answers GET /metrics with the Prometheus
// text exposition (`render` is called per request, on the loop thread). Anything else gets a short error response:
// 404 for other paths, 405 for other methods, 400 for a malformed request, 431 when the head exceeds
// kMaxRequestBytes. One request per connection (Connection: close); at most kMaxConnections at once (more are
// closed on accept); a connection that has not sent a full request head within kIdleTimeoutMs is closed.
//
// Lifecycle: start() -> serving -> close() -> (loop runs the close callbacks) -> destroy. Connections are freed
// in their close callbacks; the endpoint must outlive the loop turns that run them (its owner destroys it only
// after the loop has run dry). Loop thread only.
class MetricsEndpoint {
 public:
  static constexpr size_t kMaxRequestBytes = 8192;
  static constexpr size_t kMaxConnections = 64;
  static constexpr uint64_t kIdleTimeoutMs = 5000;

  MetricsEndpoint(uv_loop_t* loop, std::function<std::string()> render);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // Listens on "IP:PORT", "[IPv6]:PORT" or "localhost:PORT" (port 0: any free port). False with `error` naming
  // the address and the cause.
  bool start(const std::string& address, std::string* error);
  // The bound port (useful with port 0), 0 before start().
  int port() const { return port_; }
  // Stops listening and closes every open connection. Idempotent.
  void close();

  // Called by connections: the response to a complete request head.
  std::string respond(const std::string& head) const;
  void on_connection_closed() { --connections_; }

 private:
  void on_new_connection();

  uv_loop_t* loop_;
  std::function<std::string()> render_;
  uv_tcp_t server_{};
  bool listening_ = false;
  bool closed_ = false;
  int port_ = 0;
  size_t connections_ = 0;
  void* first_connection_ = nullptr;  // intrusive list of open connections (metrics_endpoint.cpp)
};

// Splits "host:port" / "[v6]:port" into a socket address; false with `error` when it is not one.
bool parse_listen_address(const std::string& address, sockaddr_storage* out, std::string* error);

}  // namespace luaload::app
