// SPDX-License-Identifier: MIT
#include "support/tls_test_server.hpp"

#include <uv.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string_view>

#include "engine/tls/server_session.hpp"
#include "support/tls_fixtures.hpp"

namespace luaload::test {
namespace {

using engine::tls::ServerSession;
using Status = ServerSession::Status;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "TlsTestServer: %s\n", what.c_str());
  std::abort();
}

std::string lowercase(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

// Value of a header in a lowercased header block, empty if absent.
std::string header_value(const std::string& lower_headers, std::string_view name) {
  const std::string needle = "\r\n" + std::string(name) + ":";
  const size_t at = lower_headers.find(needle);
  if (at == std::string::npos) {
    return {};
  }
  const size_t start = lower_headers.find_first_not_of(' ', at + needle.size());
  const size_t end = lower_headers.find("\r\n", at + needle.size());
  return start == std::string::npos || start >= end ? std::string() : lower_headers.substr(start, end - start);
}

struct WriteRequest {
  uv_write_t req;
  std::string data;
};

}  // namespace

struct TlsTestConnection {
  TlsTestConnection(TlsTestServer::Loop* owner, engine::tls::ServerContext& context) : owner(owner), tls(context) {}

  uv_tcp_t tcp{};
  TlsTestServer::Loop* owner;
  ServerSession tls;
  std::string plaintext;
  bool closing = false;
};

class TlsTestServer::Loop {
 public:
  Loop(engine::tls::ServerContext& context, Counters& counters, std::string response)
      : context_(context), counters_(counters), response_(std::move(response)) {}

  // Test thread, before the loop thread exists (starting the thread publishes everything set up here).
  uint16_t listen();
  // Loop thread body.
  void run() {
    uv_run(&loop_, UV_RUN_DEFAULT);
    closed_cleanly_ = uv_loop_close(&loop_) == 0;
  }
  // Any thread.
  void request_stop() { uv_async_send(&stop_); }
  bool closed_cleanly() const { return closed_cleanly_; }

  void on_stop();
  void on_connection();
  void on_read(TlsTestConnection* connection, ssize_t nread, const uv_buf_t* buf);
  void on_closed(TlsTestConnection* connection) {
    connections_.erase(connection);
    delete connection;
  }
  uv_buf_t read_buffer() { return uv_buf_init(read_buffer_.data(), static_cast<unsigned int>(read_buffer_.size())); }

 private:
  bool advance_handshake(TlsTestConnection* connection);
  bool serve_requests(TlsTestConnection* connection);
  void flush(TlsTestConnection* connection);
  void close(TlsTestConnection* connection);
  void close_gracefully(TlsTestConnection* connection);

  engine::tls::ServerContext& context_;
  Counters& counters_;
  const std::string response_;
  uv_loop_t loop_{};
  uv_tcp_t listener_{};
  uv_async_t stop_{};
  std::set<TlsTestConnection*> connections_;
  std::array<char, 64 * 1024> read_buffer_{};
  bool closed_cleanly_ = false;
};

namespace {

TlsTestServer::Loop* owner_of(uv_handle_t* handle) { return static_cast<TlsTestServer::Loop*>(handle->data); }

void on_stop_cb(uv_async_t* async) { owner_of(reinterpret_cast<uv_handle_t*>(async))->on_stop(); }

void on_connection_cb(uv_stream_t* server, int status) {
  if (status == 0) {
    owner_of(reinterpret_cast<uv_handle_t*>(server))->on_connection();
  }
}

void on_alloc_cb(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  *buf = static_cast<TlsTestConnection*>(handle->data)->owner->read_buffer();
}

void on_read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* connection = static_cast<TlsTestConnection*>(stream->data);
  connection->owner->on_read(connection, nread, buf);
}

void on_connection_closed_cb(uv_handle_t* handle) {
  auto* connection = static_cast<TlsTestConnection*>(handle->data);
  connection->owner->on_closed(connection);
}

void on_written_cb(uv_write_t* req, int) { delete reinterpret_cast<WriteRequest*>(req); }

void on_shutdown_cb(uv_shutdown_t* req, int) {
  auto* handle = reinterpret_cast<uv_handle_t*>(req->handle);
  if (!uv_is_closing(handle)) {
    uv_close(handle, on_connection_closed_cb);
  }
  delete req;
}

}  // namespace

uint16_t TlsTestServer::Loop::listen() {
  struct sockaddr_in address {};
  int rc = uv_loop_init(&loop_);
  rc = rc != 0 ? rc : uv_async_init(&loop_, &stop_, on_stop_cb);
  rc = rc != 0 ? rc : uv_tcp_init(&loop_, &listener_);
  if (rc != 0) {
    die(std::string("cannot set up the loop: ") + uv_strerror(rc));
  }
  stop_.data = this;
  listener_.data = this;
  uv_ip4_addr("127.0.0.1", 0, &address);
  rc = uv_tcp_bind(&listener_, reinterpret_cast<const sockaddr*>(&address), 0);
  rc = rc != 0 ? rc : uv_listen(reinterpret_cast<uv_stream_t*>(&listener_), 128, on_connection_cb);
  struct sockaddr_storage bound {};
  int size = sizeof bound;
  rc = rc != 0 ? rc : uv_tcp_getsockname(&listener_, reinterpret_cast<sockaddr*>(&bound), &size);
  if (rc != 0) {
    die(std::string("cannot listen on 127.0.0.1: ") + uv_strerror(rc));
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
}

void TlsTestServer::Loop::on_stop() {
  uv_close(reinterpret_cast<uv_handle_t*>(&listener_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&stop_), nullptr);
  for (TlsTestConnection* connection : connections_) {
    close(connection);
  }
}

void TlsTestServer::Loop::on_connection() {
  auto* connection = new TlsTestConnection(this, context_);
  uv_tcp_init(&loop_, &connection->tcp);
  connection->tcp.data = connection;
  connections_.insert(connection);
  auto* stream = reinterpret_cast<uv_stream_t*>(&connection->tcp);
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&listener_), stream) != 0) {
    close(connection);
    return;
  }
  ++counters_.connections;
  uv_tcp_nodelay(&connection->tcp, 1);
  uv_read_start(stream, on_alloc_cb, on_read_cb);
}

void TlsTestServer::Loop::on_read(TlsTestConnection* connection, ssize_t nread, const uv_buf_t* buf) {
  if (nread < 0) {
    close(connection);
    return;
  }
  if (connection->closing) {
    return;  // Our side is done; only the peer's EOF matters now.
  }
  connection->tls.feed_ciphertext(buf->base, static_cast<size_t>(nread));
  if (!advance_handshake(connection)) {
    return;
  }
  const Status status = connection->tls.read(&connection->plaintext);
  if (status == Status::Failed) {
    ++counters_.failed;
  }
  const bool keep_open = serve_requests(connection) && (status == Status::Ok || status == Status::WantRead);
  flush(connection);
  if (!keep_open) {
    close_gracefully(connection);
  }
}

// False when the connection cannot go on to application data yet (or ever).
bool TlsTestServer::Loop::advance_handshake(TlsTestConnection* connection) {
  if (connection->tls.handshake_complete()) {
    return true;
  }
  const Status status = connection->tls.handshake();
  flush(connection);
  if (status == Status::Ok) {
    ++counters_.handshakes;
    counters_.resumed += connection->tls.session_reused() ? 1 : 0;
    return true;
  }
  if (status != Status::WantRead) {
    ++counters_.failed;
    close_gracefully(connection);
  }
  return false;
}

// Answers every complete request buffered so far. False once a request asked to close the connection.
bool TlsTestServer::Loop::serve_requests(TlsTestConnection* connection) {
  std::string& buffer = connection->plaintext;
  for (;;) {
    const size_t head_end = buffer.find("\r\n\r\n");
    if (head_end == std::string::npos) {
      return true;
    }
    const std::string headers = lowercase(std::string_view(buffer).substr(0, head_end + 2));
    const size_t body_size = std::strtoul(header_value(headers, "content-length").c_str(), nullptr, 10);
    if (buffer.size() < head_end + 4 + body_size) {
      return true;
    }
    buffer.erase(0, head_end + 4 + body_size);
    connection->tls.write(response_);
    ++counters_.requests;
    if (header_value(headers, "connection") == "close") {
      connection->tls.shutdown();
      return false;
    }
  }
}

void TlsTestServer::Loop::flush(TlsTestConnection* connection) {
  std::string bytes = connection->tls.take_ciphertext();
  if (bytes.empty() || uv_is_closing(reinterpret_cast<uv_handle_t*>(&connection->tcp))) {
    return;
  }
  auto* request = new WriteRequest{{}, std::move(bytes)};
  uv_buf_t buf = uv_buf_init(request->data.data(), static_cast<unsigned int>(request->data.size()));
  if (uv_write(&request->req, reinterpret_cast<uv_stream_t*>(&connection->tcp), &buf, 1, on_written_cb) != 0) {
    delete request;
    close(connection);
  }
}

void TlsTestServer::Loop::close(TlsTestConnection* connection) {
  auto* handle = reinterpret_cast<uv_handle_t*>(&connection->tcp);
  if (!uv_is_closing(handle)) {
    uv_close(handle, on_connection_closed_cb);
  }
}

// Lets queued writes (the response, close_notify or an alert) reach the client before the socket closes.
void TlsTestServer::Loop::close_gracefully(TlsTestConnection* connection) {
  if (connection->closing) {
    return;
  }
  connection->closing = true;
  auto* request = new uv_shutdown_t;
  if (uv_shutdown(request, reinterpret_cast<uv_stream_t*>(&connection->tcp), on_shutdown_cb) != 0) {
    delete request;
    close(connection);
  }
}

TlsTestServer::TlsTestServer(TlsTestServerOptions options) {
  const std::string cert = options.cert_file.empty() ? tls_files().server_cert : options.cert_file;
  const std::string key = options.key_file.empty() ? tls_files().server_key : options.key_file;
  std::string error;
  engine::tls::ServerOptions server_options;
  server_options.max_version = options.max_version;
  context_ = engine::tls::ServerContext::create(cert, key, &error, server_options);
  if (!context_) {
    die(error);
  }
  loop_ = std::make_unique<Loop>(*context_, counters_, std::move(options.response));
  port_ = loop_->listen();
  thread_ = std::thread([loop = loop_.get()] { loop->run(); });
}

TlsTestServer::~TlsTestServer() {
  loop_->request_stop();
  thread_.join();
  if (!loop_->closed_cleanly()) {
    die("loop did not close cleanly");
  }
}

}  // namespace luaload::test
