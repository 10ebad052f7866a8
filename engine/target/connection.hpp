// SPDX-License-Identifier: MIT
#pragma once

#include <llhttp.h>
#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "engine/target/request.hpp"
#include "engine/target/responder.hpp"

namespace luaload::engine::tls {
class ServerContext;
class ServerSession;
}  // namespace luaload::engine::tls

namespace luaload::engine::target {

struct ServerState;
class Connection;

// What a connection borrows from the thread that accepted it. Everything outlives the connection.
struct ConnectionEnv {
  ServerState* state = nullptr;
  tls::ServerContext* tls = nullptr;  // nullptr: plain HTTP
  std::string* read_buffer = nullptr;  // per-loop scratch: reads are consumed before the next one starts
  void (*on_closed)(void* owner, Connection* connection) = nullptr;  // after the last close callback
  void* owner = nullptr;
};

// One accepted HTTP/1.1 connection (optionally TLS). Parses requests one at a time with llhttp, hands each to the
// router, and writes responses in request order: while a handler answers asynchronously, pipelined bytes are
// buffered and parsing is paused, so no second exchange ever starts before the first ends.
//
// Lifecycle:
//   accept() -> idle --first byte--> in request (request timeout) --complete--> exchange (handler owns it)
//            -> response written -> idle ... ; timeouts, malformed input, peer reset or close() -> closing
//            -> all three handles closed -> env.on_closed(owner, this), which deletes the connection.
// Threading: its loop thread only. Ownership: heap-allocated; freed only through env.on_closed.
class Connection final : public Responder {
 public:
  Connection(uv_loop_t* loop, const ConnectionEnv& env);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  // Only from env.on_closed, once every handle is closed.
  ~Connection() override;

  // Accepts the pending connection of `server` and starts reading. On failure the connection closes itself.
  void accept(uv_stream_t* server);
  // Closes the socket and timers; pending after() callbacks are dropped. Idempotent.
  void close();

  void respond(int status, std::string_view content_type, std::string_view body,
               std::span<const HeaderField> extra = {}) override;
  void begin_stream(int status, std::string_view content_type, std::span<const HeaderField> extra = {}) override;
  void stream_write(std::string_view data) override;
  void end_stream() override;
  void after(uint64_t delay_ms, std::function<void()> fn) override;

  // llhttp callbacks (called through trampolines; public only for them).
  int on_message_begin();
  int on_url(const char* at, size_t length);
  int on_header_field(const char* at, size_t length);
  int on_header_value(const char* at, size_t length);
  int on_headers_complete();
  int on_body(const char* at, size_t length);
  int on_message_complete();
  // libuv events.
  void on_read(ssize_t nread, const uv_buf_t* buf);
  void on_write(int status);
  void on_timeout();
  void on_delay();
  void on_handle_closed();
  uv_buf_t read_buffer();

 private:
  void feed(const char* data, size_t size);
  void feed_tls(const char* data, size_t size);
  void execute(const char* data, size_t size);
  void resume_parsing();
  void reject(int status);
  void finish_exchange();
  void append_head(int status, std::string_view content_type, size_t content_length, bool chunked,
                   std::span<const HeaderField> extra, bool keep_alive);
  void flush();
  void linger_close();
  void start_reading();
  void stop_reading();
  void arm_timer(int64_t ms);
  bool count_header_bytes(size_t length);

  ConnectionEnv env_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};        // idle timeout between requests, request timeout while one arrives
  uv_timer_t delay_timer_{};  // Responder::after()
  uv_write_t write_req_{};
  uv_shutdown_t shutdown_req_{};
  llhttp_t parser_{};
  Request request_;
  std::unique_ptr<tls::ServerSession> tls_;
  std::string out_;      // plaintext responses not yet handed to the transport
  std::string wire_;     // bytes for the socket, waiting for the write in flight to end
  std::string writing_;  // bytes of the write in flight
  std::string pending_;  // received bytes not parsed yet because an exchange is in progress
  std::string scratch_;  // pending_ being parsed
  std::string tls_plain_;
  std::function<void()> delayed_;
  size_t header_bytes_ = 0;
  int reject_status_ = 0;
  int open_handles_ = 0;
  bool in_field_ = false;
  bool in_execute_ = false;
  bool exchange_active_ = false;
  bool streaming_ = false;
  bool stream_chunked_ = false;
  bool head_request_ = false;
  bool close_after_write_ = false;
  bool write_in_flight_ = false;
  bool reading_ = false;
  bool closing_ = false;
  bool lingering_ = false;  // response sent, FIN sent, draining input until the peer closes
  bool peer_eof_ = false;
};

}  // namespace luaload::engine::target
