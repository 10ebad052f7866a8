// SPDX-License-Identifier: MIT
#include "engine/target/connection.hpp"

#include <algorithm>

#include "engine/core/assert.hpp"
#include "engine/target/http_util.hpp"
#include "engine/target/router.hpp"
#include "engine/target/server_state.hpp"
#include "engine/tls/server_session.hpp"

namespace luaload::engine::target {
namespace {

// Stop reading when this much unparsed input is waiting behind an exchange in progress: a client pipelining
// faster than we answer is slowed down by TCP instead of by our memory.
constexpr size_t kMaxPendingBytes = 256 * 1024;
constexpr size_t kMaxHeaders = 128;

Connection* from_parser(llhttp_t* parser) { return static_cast<Connection*>(parser->data); }

int on_message_begin_cb(llhttp_t* p) { return from_parser(p)->on_message_begin(); }
int on_url_cb(llhttp_t* p, const char* at, size_t n) { return from_parser(p)->on_url(at, n); }
int on_header_field_cb(llhttp_t* p, const char* at, size_t n) { return from_parser(p)->on_header_field(at, n); }
int on_header_value_cb(llhttp_t* p, const char* at, size_t n) { return from_parser(p)->on_header_value(at, n); }
int on_headers_complete_cb(llhttp_t* p) { return from_parser(p)->on_headers_complete(); }
int on_body_cb(llhttp_t* p, const char* at, size_t n) { return from_parser(p)->on_body(at, n); }
int on_message_complete_cb(llhttp_t* p) { return from_parser(p)->on_message_complete(); }

// Built once and never modified: every connection on every thread shares it read-only.
const llhttp_settings_t& parser_settings() {
  static const llhttp_settings_t settings = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = on_message_begin_cb;
    s.on_url = on_url_cb;
    s.on_header_field = on_header_field_cb;
    s.on_header_value = on_header_value_cb;
    s.on_headers_complete = on_headers_complete_cb;
    s.on_body = on_body_cb;
    s.on_message_complete = on_message_complete_cb;
    return s;
  }();
  return settings;
}

void alloc_cb(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  *buf = static_cast<Connection*>(handle->data)->read_buffer();
}
void read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  static_cast<Connection*>(stream->data)->on_read(nread, buf);
}
void timeout_cb(uv_timer_t* timer) { static_cast<Connection*>(timer->data)->on_timeout(); }
void close_cb(uv_handle_t* handle) { static_cast<Connection*>(handle->data)->on_handle_closed(); }

char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

Connection::Connection(uv_loop_t* loop, const ConnectionEnv& env) : env_(env) {
  uv_tcp_init(loop, &tcp_);
  uv_timer_init(loop, &timer_);
  uv_timer_init(loop, &delay_timer_);
  tcp_.data = timer_.data = delay_timer_.data = this;
  open_handles_ = 3;
  llhttp_init(&parser_, HTTP_REQUEST, &parser_settings());
  parser_.data = this;
  if (env_.tls != nullptr) tls_ = std::make_unique<tls::ServerSession>(*env_.tls);
}

Connection::~Connection() { LUALOAD_ASSERT(open_handles_ == 0); }

void Connection::accept(uv_stream_t* server) {
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&tcp_)) != 0) {
    close();
    return;
  }
  // Responses are written whole; Nagle would only hold back the last segment of each.
  uv_tcp_nodelay(&tcp_, 1);
  arm_timer(env_.state->options.idle_timeout_ms);
  start_reading();
}

void Connection::close() {
  if (closing_) return;
  closing_ = true;
  delayed_ = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), close_cb);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), close_cb);
  uv_close(reinterpret_cast<uv_handle_t*>(&delay_timer_), close_cb);
}

void Connection::on_handle_closed() {
  if (--open_handles_ == 0) env_.on_closed(env_.owner, this);
}

uv_buf_t Connection::read_buffer() {
  std::string& buffer = *env_.read_buffer;
  return uv_buf_init(buffer.data(), static_cast<unsigned>(buffer.size()));
}

void Connection::start_reading() {
  if (reading_ || closing_) return;
  reading_ = true;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), alloc_cb, read_cb);
}

void Connection::stop_reading() {
  if (!reading_ || closing_) return;
  reading_ = false;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
}

void Connection::arm_timer(int64_t ms) {
  if (closing_) return;
  uv_timer_start(&timer_, timeout_cb, static_cast<uint64_t>(std::max<int64_t>(ms, 1)), 0);
}

void Connection::on_timeout() {
  // Idle keep-alive connections and requests that trickle in (slowloris) are both just closed.
  close();
}

void Connection::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (nread == 0 || closing_) return;
  if (lingering_) {
    if (nread < 0) close();
    return;
  }
  if (nread < 0) {
    peer_eof_ = true;
    // A half-close still gets the answer to a request already being handled; anything else ends the connection.
    if (nread == UV_EOF && (exchange_active_ || write_in_flight_)) {
      close_after_write_ = true;
      stop_reading();
      return;
    }
    close();
    return;
  }
  if (tls_) {
    feed_tls(buf->base, static_cast<size_t>(nread));
  } else {
    feed(buf->base, static_cast<size_t>(nread));
  }
  flush();
  // A failed TLS handshake or close_notify may leave nothing to write: nothing else would end the connection.
  if (close_after_write_ && !exchange_active_ && !streaming_ && !write_in_flight_) linger_close();
}

void Connection::feed_tls(const char* data, size_t size) {
  using Status = tls::ServerSession::Status;
  tls_->feed_ciphertext(data, size);
  if (!tls_->handshake_complete()) {
    Status status = tls_->handshake();
    wire_ += tls_->take_ciphertext();
    if (status == Status::Failed) {
      close_after_write_ = true;
      stop_reading();
      return;
    }
    if (status != Status::Ok) return;
  }
  Status status = tls_->read(&tls_plain_);
  wire_ += tls_->take_ciphertext();
  if (!tls_plain_.empty()) {
    feed(tls_plain_.data(), tls_plain_.size());
    tls_plain_.clear();
  }
  if (status == Status::Closed || status == Status::Failed) {
    close_after_write_ = true;
    stop_reading();
  }
}

void Connection::feed(const char* data, size_t size) {
  if (close_after_write_) return;  // a response with Connection: close is on its way; the rest is ignored
  if (exchange_active_) {
    pending_.append(data, size);
    if (pending_.size() > kMaxPendingBytes) stop_reading();
    return;
  }
  execute(data, size);
}

void Connection::execute(const char* data, size_t size) {
  in_execute_ = true;
  llhttp_errno_t err = llhttp_execute(&parser_, data, size);
  in_execute_ = false;
  if (err == HPE_OK) return;
  if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
    // Paused after a complete message: either its exchange is still in progress, or the connection is closing.
    if (err == HPE_PAUSED_UPGRADE) close_after_write_ = true;
    if (!close_after_write_) {
      const char* pos = llhttp_get_error_pos(&parser_);
      pending_.assign(pos, static_cast<size_t>(data + size - pos));
      if (pending_.size() > kMaxPendingBytes) stop_reading();
    }
    return;
  }
  reject(reject_status_ != 0 ? reject_status_ : 400);
}

void Connection::resume_parsing() {
  llhttp_resume(&parser_);
  if (!pending_.empty()) {
    scratch_.swap(pending_);
    pending_.clear();
    execute(scratch_.data(), scratch_.size());
    scratch_.clear();
  }
  if (!exchange_active_ && !close_after_write_) start_reading();
}

void Connection::reject(int status) {
  // The request could not be parsed: answer it (no handler saw it) and stop reading this connection.
  exchange_active_ = true;
  request_.keep_alive = false;
  head_request_ = false;
  std::string body = "{\"error\":\"" + std::string(reason_phrase(status)) + "\"}";
  respond(status, "application/json", body);
  stop_reading();
}

bool Connection::count_header_bytes(size_t length) {
  header_bytes_ += length;
  if (header_bytes_ <= env_.state->options.max_header_bytes) return true;
  reject_status_ = 431;
  return false;
}

int Connection::on_message_begin() {
  request_.clear();
  header_bytes_ = 0;
  reject_status_ = 0;
  in_field_ = false;
  arm_timer(env_.state->options.request_timeout_ms);
  return 0;
}

int Connection::on_url(const char* at, size_t length) {
  if (!count_header_bytes(length)) return -1;
  request_.target.append(at, length);
  return 0;
}

int Connection::on_header_field(const char* at, size_t length) {
  if (!count_header_bytes(length)) return -1;
  if (!in_field_) {
    if (request_.headers.size() >= kMaxHeaders) {
      reject_status_ = 431;
      return -1;
    }
    request_.headers.emplace_back();
    in_field_ = true;
  }
  std::string& name = request_.headers.back().first;
  for (size_t i = 0; i < length; ++i) name.push_back(to_lower(at[i]));
  return 0;
}

int Connection::on_header_value(const char* at, size_t length) {
  if (!count_header_bytes(length)) return -1;
  in_field_ = false;
  if (!request_.headers.empty()) request_.headers.back().second.append(at, length);
  return 0;
}

int Connection::on_headers_complete() {
  request_.method = llhttp_method_name(static_cast<llhttp_method_t>(parser_.method));
  request_.http_minor = parser_.http_minor;
  const auto& options = env_.state->options;
  if ((parser_.flags & F_CONTENT_LENGTH) != 0 && parser_.content_length > options.max_body_bytes) {
    reject_status_ = 413;
    return -1;
  }
  const std::string* expect = request_.header("expect");
  if (expect != nullptr && iequals(*expect, "100-continue") && parser_.http_minor >= 1) {
    out_.append("HTTP/1.1 100 Continue\r\n\r\n");
  }
  return 0;
}

int Connection::on_body(const char* at, size_t length) {
  if (request_.body.size() + length > env_.state->options.max_body_bytes) {
    reject_status_ = 413;
    return -1;
  }
  request_.body.append(at, length);
  return 0;
}

int Connection::on_message_complete() {
  request_.keep_alive = llhttp_should_keep_alive(&parser_) != 0;
  head_request_ = request_.method == "HEAD";
  exchange_active_ = true;
  uv_timer_stop(&timer_);  // the handler owns the time now
  route_request(request_, *this, *env_.state);
  return (exchange_active_ || close_after_write_) ? HPE_PAUSED : HPE_OK;
}

}  // namespace luaload::engine::target
