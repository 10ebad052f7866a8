// SPDX-License-Identifier: MIT
// The TLS half of Connection: the session does no I/O, so this file moves bytes between it and the socket.
#include "engine/core/clock.hpp"
#include "engine/http/connection.hpp"
#include "engine/tls/client_session.hpp"

namespace luaload::engine::http {
namespace {

// One ciphertext write in flight; TLS output is produced in pieces, each needing its own buffer until written.
struct TlsWrite {
  uv_write_t req{};
  std::string data;
  Connection* connection = nullptr;
};

ErrorCode tls_error(tls::TlsFailure failure) {
  switch (failure) {
    case tls::TlsFailure::UnknownAuthority: return ErrorCode::TlsUnknownAuthority;
    case tls::TlsFailure::Hostname: return ErrorCode::TlsHostname;
    default: return ErrorCode::Tls;
  }
}

}  // namespace

void Connection::start_tls() {
  if (env_.tls == nullptr) {
    fail(ErrorCode::Tls, "tls: https is not available (no TLS context on this worker)");
    return;
  }
  state_ = State::Handshaking;
  tls_start_ns_ = core::mono_now_ns();
  tls_ = std::make_unique<tls::ClientSession>(*env_.tls, host_, host_ + ":" + std::to_string(port_));
  drive_handshake();
}

void Connection::drive_handshake() {
  tls::ClientSession::Status status = tls_->handshake();
  if (!flush_tls()) return;
  if (status == tls::ClientSession::Status::Failed || status == tls::ClientSession::Status::Closed) {
    fail_tls();
    return;
  }
  if (status != tls::ClientSession::Status::Ok || !tls_->handshake_complete()) return;  // wants more bytes
  const int64_t now = core::mono_now_ns();
  job_.record->timing.tls_handshaking_ms = static_cast<double>(now - tls_start_ns_) / 1e6;
  tls_version_ = tls_->version();
  begin_request(now);
}

void Connection::on_tls_bytes(const char* data, size_t size) {
  tls_->feed_ciphertext(data, size);
  if (state_ == State::Handshaking) {
    drive_handshake();
    return;
  }
  tls_plain_.clear();
  tls::ClientSession::Status status;
  size_t before;
  do {
    before = tls_plain_.size();
    status = tls_->read(&tls_plain_);
  } while (status == tls::ClientSession::Status::Ok && tls_plain_.size() > before);
  if (!flush_tls()) return;
  if (status == tls::ClientSession::Status::Failed) {
    fail_tls();
    return;
  }
  if (!tls_plain_.empty()) {
    if (state_ != State::Active || response_done_) {
      abort(ErrorCode::MalformedResponse, "unexpected data from the server");
      return;
    }
    job_.record->bytes_received += tls_plain_.size();
    on_response_bytes(tls_plain_.data(), tls_plain_.size());
  }
  // close_notify reads like EOF; unless the response above already ended and the connection moved on.
  if (status == tls::ClientSession::Status::Closed && state_ != State::Closing) on_eof_or_error(UV_EOF);
}

void Connection::write_tls() {
  bool ok = tls_->write(head_) == tls::ClientSession::Status::Ok &&
            (job_.body.empty() || tls_->write(job_.body) == tls::ClientSession::Status::Ok);
  if (!flush_tls()) return;
  if (!ok) {
    fail_tls();
    return;
  }
  note_sent_if_flushed();
}

bool Connection::flush_tls() {
  std::string out = tls_->take_ciphertext();
  if (out.empty()) return true;
  auto* write = new TlsWrite;
  write->data = std::move(out);
  write->req.data = write;
  write->connection = this;
  uv_buf_t buf = uv_buf_init(write->data.data(), static_cast<unsigned>(write->data.size()));
  ++pending_writes_;
  int rc = uv_write(&write->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, on_tls_write_cb);
  if (rc == 0) return true;
  --pending_writes_;
  delete write;
  fail(rc == UV_EPIPE ? ErrorCode::TcpBrokenPipe : ErrorCode::Tcp, std::string("write: ") + uv_strerror(rc),
       reused_ && !response_started_);
  return false;
}

void Connection::on_tls_write_cb(uv_write_t* req, int status) {
  auto* write = static_cast<TlsWrite*>(req->data);
  Connection* connection = write->connection;
  delete write;
  connection->on_write_done(status);
}

void Connection::fail_tls() {
  fail(tls_error(tls_->failure()), tls_->error().empty() ? "tls: handshake failed" : tls_->error());
}

}  // namespace luaload::engine::http
