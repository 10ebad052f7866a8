// SPDX-License-Identifier: MIT
#include "app/metrics_endpoint.hpp"

#include <cstring>

namespace luaload::app {
namespace {

// One accepted connection. States: reading (timer armed) -> writing (response queued) -> closing (both handles
// closing) -> freed when the second close callback runs. Linked into the endpoint's list while open so close()
// can reach it.
struct Connection {
  MetricsEndpoint* endpoint = nullptr;
  uv_tcp_t tcp{};
  uv_timer_t timer{};
  uv_write_t write{};
  std::string head;
  std::string response;
  int pending_closes = 0;
  bool closing = false;
  Connection* prev = nullptr;
  Connection* next = nullptr;
  Connection** list = nullptr;
};

void unlink(Connection* c) {
  if (c->prev) c->prev->next = c->next;
  if (c->next) c->next->prev = c->prev;
  if (*c->list == c) *c->list = c->next;
  c->prev = c->next = nullptr;
}

void on_handle_closed_cb(uv_handle_t* handle) {
  auto* c = static_cast<Connection*>(handle->data);
  if (--c->pending_closes == 0) {
    if (c->endpoint) c->endpoint->on_connection_closed();
    delete c;
  }
}

void close_connection(Connection* c) {
  if (c->closing) return;
  c->closing = true;
  unlink(c);
  c->pending_closes = 2;
  uv_close(reinterpret_cast<uv_handle_t*>(&c->timer), on_handle_closed_cb);
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), on_handle_closed_cb);
}

void on_written_cb(uv_write_t* req, int) { close_connection(static_cast<Connection*>(req->data)); }

void send_response(Connection* c, std::string response) {
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&c->tcp));
  uv_timer_stop(&c->timer);
  c->response = std::move(response);
  uv_buf_t buf = uv_buf_init(c->response.data(), static_cast<unsigned>(c->response.size()));
  c->write.data = c;
  if (uv_write(&c->write, reinterpret_cast<uv_stream_t*>(&c->tcp), &buf, 1, on_written_cb) != 0) close_connection(c);
}

std::string error_response(const char* status) {
  const std::string body = std::string(status) + "\n";
  return std::string("HTTP/1.1 ") + status + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

void on_alloc_cb(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  static thread_local char buffer[4096];
  *buf = uv_buf_init(buffer, sizeof buffer);
}

void on_read_cb(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(stream->data);
  if (n < 0) {
    close_connection(c);
    return;
  }
  c->head.append(buf->base, static_cast<size_t>(n));
  if (c->head.find("\r\n\r\n") != std::string::npos || c->head.find("\n\n") != std::string::npos) {
    send_response(c, c->endpoint->respond(c->head));
  } else if (c->head.size() > MetricsEndpoint::kMaxRequestBytes) {
    send_response(c, error_response("431 Request Header Fields Too Large"));
  }
}

void on_idle_cb(uv_timer_t* timer) { close_connection(static_cast<Connection*>(timer->data)); }

}  // namespace

bool parse_listen_address(const std::string& address, sockaddr_storage* out, std::string* error) {
  const auto colon = address.rfind(':');
  std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
  const std::string port_text = colon == std::string::npos ? "" : address.substr(colon + 1);
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  if (host.empty() || port_text.empty() || *end != '\0' || port < 0 || port > 65535) {
    *error = "--metrics-addr must be IP:PORT (like 127.0.0.1:9464), got \"" + address + "\"";
    return false;
  }
  if (host == "localhost") host = "127.0.0.1";
  std::memset(out, 0, sizeof *out);
  const bool v6 = host.size() > 2 && host.front() == '[' && host.back() == ']';
  const int rc = v6 ? uv_ip6_addr(host.substr(1, host.size() - 2).c_str(), static_cast<int>(port),
                                  reinterpret_cast<sockaddr_in6*>(out))
                    : uv_ip4_addr(host.c_str(), static_cast<int>(port), reinterpret_cast<sockaddr_in*>(out));
  if (rc != 0) {
    *error = "--metrics-addr: \"" + host + "\" is not an IP address";
    return false;
  }
  return true;
}

MetricsEndpoint::MetricsEndpoint(uv_loop_t* loop, std::function<std::string()> render)
    : loop_(loop), render_(std::move(render)) {}

MetricsEndpoint::~MetricsEndpoint() {
  // Connections still linked here would call back into a dead endpoint; their owner ran close() and the loop.
  for (auto* c = static_cast<Connection*>(first_connection_); c; c = c->next) c->endpoint = nullptr;
}

bool MetricsEndpoint::start(const std::string& address, std::string* error) {
  sockaddr_storage addr;
  if (!parse_listen_address(address, &addr, error)) return false;
  uv_tcp_init(loop_, &server_);
  server_.data = this;
  listening_ = true;
  int rc = uv_tcp_bind(&server_, reinterpret_cast<sockaddr*>(&addr), 0);
  if (rc == 0) {
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(&server_), 64, [](uv_stream_t* s, int status) {
      if (status == 0) static_cast<MetricsEndpoint*>(s->data)->on_new_connection();
    });
  }
  if (rc != 0) {
    *error = "--metrics-addr: cannot listen on " + address + ": " + uv_strerror(rc);
    return false;
  }
  sockaddr_storage bound;
  int length = sizeof bound;
  uv_tcp_getsockname(&server_, reinterpret_cast<sockaddr*>(&bound), &length);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return true;
}

void MetricsEndpoint::on_new_connection() {
  auto* c = new Connection;
  c->endpoint = this;
  c->list = reinterpret_cast<Connection**>(&first_connection_);
  uv_tcp_init(loop_, &c->tcp);
  uv_timer_init(loop_, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->next = static_cast<Connection*>(first_connection_);
  if (c->next) c->next->prev = c;
  first_connection_ = c;
  ++connections_;
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&server_), reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0 ||
      connections_ > kMaxConnections) {
    close_connection(c);
    return;
  }
  uv_timer_start(&c->timer, on_idle_cb, kIdleTimeoutMs, 0);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&c->tcp), on_alloc_cb, on_read_cb);
}

std::string MetricsEndpoint::respond(const std::string& head) const {
  const auto line_end = head.find_first_of("\r\n");
  const std::string line = head.substr(0, line_end);
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string::npos ? std::string::npos : line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || line.compare(sp2 + 1, 5, "HTTP/") != 0) return error_response("400 Bad Request");
  const std::string method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  if (target != "/metrics") return error_response("404 Not Found");
  if (method != "GET" && method != "HEAD") return error_response("405 Method Not Allowed");
  const std::string body = render_();
  std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                         "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  if (method == "GET") response += body;
  return response;
}

void MetricsEndpoint::close() {
  if (closed_) return;
  closed_ = true;
  if (listening_) uv_close(reinterpret_cast<uv_handle_t*>(&server_), nullptr);
  while (first_connection_) close_connection(static_cast<Connection*>(first_connection_));
}

}  // namespace luaload::app
