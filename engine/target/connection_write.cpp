// SPDX-License-Identifier: MIT
// The writing half of Connection: response heads, bodies, streams, the delay timer and the write queue.
#include <charconv>

#include "engine/target/connection.hpp"
#include "engine/target/http_util.hpp"
#include "engine/target/server_state.hpp"
#include "engine/tls/server_session.hpp"

namespace luaload::engine::target {
namespace {

void write_cb(uv_write_t* req, int status) { static_cast<Connection*>(req->data)->on_write(status); }
void delay_cb(uv_timer_t* timer) { static_cast<Connection*>(timer->data)->on_delay(); }
// Nothing to do: a failed or cancelled shutdown ends in close() through the read side or the linger timer.
void shutdown_cb(uv_shutdown_t*, int) {}

constexpr int64_t kLingerMs = 2000;

void append_number(std::string& out, uint64_t value, int base = 10) {
  char digits[24];
  auto result = std::to_chars(digits, digits + sizeof(digits), value, base);
  out.append(digits, result.ptr);
}

}  // namespace

void Connection::append_head(int status, std::string_view content_type, size_t content_length, bool chunked,
                             std::span<const HeaderField> extra, bool keep_alive) {
  out_.append("HTTP/1.1 ");
  append_number(out_, static_cast<uint64_t>(status));
  out_.push_back(' ');
  out_.append(reason_phrase(status));
  out_.append("\r\nServer: luaload-target\r\n");
  if (!content_type.empty()) {
    out_.append("Content-Type: ").append(content_type).append("\r\n");
  }
  if (chunked) {
    out_.append("Transfer-Encoding: chunked\r\n");
  } else if (content_length != SIZE_MAX) {
    out_.append("Content-Length: ");
    append_number(out_, content_length);
    out_.append("\r\n");
  }
  for (const HeaderField& h : extra) out_.append(h.name).append(": ").append(h.value).append("\r\n");
  if (!keep_alive) {
    out_.append("Connection: close\r\n");
  } else if (request_.http_minor == 0) {
    out_.append("Connection: keep-alive\r\n");
  }
  out_.append("\r\n");
}

void Connection::respond(int status, std::string_view content_type, std::string_view body,
                         std::span<const HeaderField> extra) {
  if (closing_ || !exchange_active_ || streaming_) return;
  bool keep_alive = request_.keep_alive && !close_after_write_;
  // 1xx, 204 and 304 responses have no body by definition (RFC 9110 §6.4.1).
  bool bodyless = status == 204 || status == 304 || (status >= 100 && status < 200);
  append_head(status, content_type, bodyless ? SIZE_MAX : body.size(), false, extra, keep_alive);
  if (!head_request_ && !bodyless) out_.append(body);
  if (!keep_alive) close_after_write_ = true;
  finish_exchange();
}

void Connection::begin_stream(int status, std::string_view content_type, std::span<const HeaderField> extra) {
  if (closing_ || !exchange_active_ || streaming_) return;
  streaming_ = true;
  stream_chunked_ = request_.http_minor >= 1;
  bool keep_alive = request_.keep_alive && !close_after_write_ && stream_chunked_;
  if (!keep_alive) close_after_write_ = true;
  append_head(status, content_type, SIZE_MAX, stream_chunked_, extra, keep_alive);
  // Cache-Control goes after the caller's headers: insert it before the blank line that ends the head.
  out_.insert(out_.size() - 2, "Cache-Control: no-cache\r\n");
  flush();
}

void Connection::stream_write(std::string_view data) {
  if (closing_ || !streaming_ || data.empty()) return;
  if (stream_chunked_) {
    append_number(out_, data.size(), 16);
    out_.append("\r\n").append(data).append("\r\n");
  } else {
    out_.append(data);
  }
  flush();
}

void Connection::end_stream() {
  if (closing_ || !streaming_) return;
  if (stream_chunked_) out_.append("0\r\n\r\n");
  streaming_ = false;
  finish_exchange();
}

void Connection::after(uint64_t delay_ms, std::function<void()> fn) {
  if (closing_ || !exchange_active_) return;
  delayed_ = std::move(fn);
  uv_timer_start(&delay_timer_, delay_cb, delay_ms, 0);
}

void Connection::on_delay() {
  // Moved out first: the callback may end the exchange or schedule its successor, both of which reset delayed_.
  std::function<void()> fn = std::move(delayed_);
  delayed_ = nullptr;
  if (fn) fn();
}

void Connection::finish_exchange() {
  exchange_active_ = false;
  delayed_ = nullptr;
  uv_timer_stop(&delay_timer_);
  flush();
  if (closing_) return;
  if (close_after_write_) {
    stop_reading();
    if (!write_in_flight_ && wire_.empty() && out_.empty()) linger_close();
    return;
  }
  arm_timer(env_.state->options.idle_timeout_ms);
  if (!in_execute_) resume_parsing();
}

void Connection::flush() {
  if (closing_) return;
  if (!out_.empty()) {
    if (tls_) {
      if (tls_->write(out_) == tls::ServerSession::Status::Failed) {
        close();
        return;
      }
      out_.clear();
      wire_ += tls_->take_ciphertext();
    } else if (wire_.empty()) {
      wire_.swap(out_);
    } else {
      wire_ += out_;
      out_.clear();
    }
  }
  if (tls_ && close_after_write_ && !exchange_active_ && !streaming_) {
    tls_->shutdown();
    wire_ += tls_->take_ciphertext();
  }
  if (write_in_flight_ || wire_.empty()) return;
  writing_.swap(wire_);
  wire_.clear();
  uv_buf_t buf = uv_buf_init(writing_.data(), static_cast<unsigned>(writing_.size()));
  write_req_.data = this;
  if (uv_write(&write_req_, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, write_cb) != 0) {
    close();
    return;
  }
  write_in_flight_ = true;
}

void Connection::on_write(int status) {
  write_in_flight_ = false;
  writing_.clear();
  if (closing_) return;
  if (status < 0) {
    close();
    return;
  }
  if (!out_.empty() || !wire_.empty()) {
    flush();
    return;
  }
  if (close_after_write_ && !exchange_active_ && !streaming_) linger_close();
}

void Connection::linger_close() {
  if (closing_ || lingering_) return;
  // Closing a socket with unread input makes the kernel send a reset, which can destroy the response we just wrote
  // (a 413 for a body still arriving, a 400 for garbage still in flight). So: send FIN, then read and discard until
  // the peer closes too or kLingerMs pass.
  if (peer_eof_) {
    close();
    return;
  }
  lingering_ = true;
  shutdown_req_.data = this;
  if (uv_shutdown(&shutdown_req_, reinterpret_cast<uv_stream_t*>(&tcp_), shutdown_cb) != 0) {
    close();
    return;
  }
  arm_timer(kLingerMs);
  start_reading();
}

}  // namespace luaload::engine::target
