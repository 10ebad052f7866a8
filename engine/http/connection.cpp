// SPDX-License-Identifier: MIT
#include "engine/http/connection.hpp"

#include <netinet/in.h>

#include <algorithm>

#include "engine/core/assert.hpp"
#include "engine/core/clock.hpp"
#include "engine/http/request_writer.hpp"
#include "engine/tls/client_session.hpp"

namespace luaload::engine::http {

// The libuv trampolines; a struct so they may reach Connection's private event methods.
struct ConnectionCallbacks {
  static Connection* of(void* data) { return static_cast<Connection*>(data); }
  static void on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
    std::vector<char>& shared = *of(handle->data)->env_.read_buffer;
    *buf = uv_buf_init(shared.data(), static_cast<unsigned>(shared.size()));
  }
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    of(stream->data)->on_read(nread, buf->base);
  }
  static void on_connect(uv_connect_t* req, int status) { of(req->data)->on_connected(status); }
  static void on_write(uv_write_t* req, int status) { of(req->data)->on_write_done(status); }
  static void on_timer(uv_timer_t* timer) { of(timer->data)->on_timeout(); }
  static void on_close(uv_handle_t* handle) { of(handle->data)->on_handle_closed(); }
  static void on_tcp_recycled(uv_handle_t* handle) { of(handle->data)->on_tcp_recycled(); }
};

namespace {

using Cb = ConnectionCallbacks;

ErrorCode dial_error(int status) {
  switch (status) {
    case UV_ECONNREFUSED: return ErrorCode::TcpDialRefused;
    case UV_ETIMEDOUT: return ErrorCode::TcpDialTimeout;
    case UV_ENETUNREACH:
    case UV_EHOSTUNREACH:
    case UV_EADDRNOTAVAIL:
    case UV_EAFNOSUPPORT: return ErrorCode::TcpDial;
    default: return ErrorCode::TcpDialUnknownErrno;
  }
}

ErrorCode io_error(int status) {
  switch (status) {
    case UV_ECONNRESET: return ErrorCode::TcpResetByPeer;
    case UV_EPIPE: return ErrorCode::TcpBrokenPipe;
    default: return ErrorCode::Tcp;
  }
}

double ms_between(int64_t from_ns, int64_t to_ns) {
  return to_ns > from_ns ? static_cast<double>(to_ns - from_ns) / 1e6 : 0.0;
}

// Another address may answer where this one did not; a cancelled attempt means the connection is closing anyway.
bool worth_next_address(int status) { return status != UV_ECANCELED; }

// Go's rule for dialling several addresses under one deadline: each attempt gets an equal share of the time left,
// but at least 2 s (or all of it when less is left), so one silent address cannot use up the whole request timeout.
uint64_t attempt_budget_ms(int64_t left_ns, size_t addresses_left) {
  constexpr int64_t kSaneMinimumNs = 2'000'000'000;
  int64_t share = left_ns / static_cast<int64_t>(addresses_left);
  if (share < kSaneMinimumNs) share = std::min(left_ns, kSaneMinimumNs);
  return static_cast<uint64_t>((share + 999'999) / 1'000'000);
}

}  // namespace

Connection::Connection(const ClientEnvironment& env, ConnectionOwner* owner, const Url& origin_url)
    : env_(env),
      owner_(owner),
      origin_(origin_url.origin),
      host_(origin_url.host),
      port_(origin_url.port),
      https_(origin_url.https),
      alive_(std::make_shared<char>()) {
  uv_tcp_init(env_.loop, &tcp_);
  uv_timer_init(env_.loop, &timer_);
  tcp_.data = timer_.data = connect_req_.data = write_req_.data = this;
  handles_open_ = 2;
}

Connection::~Connection() { LUALOAD_CHECK(handles_open_ == 0, "Connection destroyed with open handles"); }

void Connection::start(const Job& job) {
  LUALOAD_ASSERT(state_ == State::Fresh || state_ == State::Idle);
  job_ = job;
  has_job_ = true;
  retryable_ = false;
  response_done_ = false;
  response_started_ = false;
  streamed_ = false;
  paused_ = false;
  extra_bytes_ = false;
  first_byte_ns_ = write_done_ns_ = 0;
  arm_timer(job_.start_ns);
  if (state_ == State::Idle) {
    reused_ = true;
    begin_request(job_.start_ns);
  } else {
    resolve();
  }
}

void Connection::arm_timer(int64_t now) {
  if (job_.idle_timeout_ms > 0) {
    arm_idle_timer();
    return;
  }
  if (job_.deadline_ns == 0) return;
  // Already due no later than this deadline: when it fires, on_timeout() re-arms it for what is left.
  if (deadline_timer_due_ns_ != 0 && deadline_timer_due_ns_ <= job_.deadline_ns) return;
  int64_t left_ns = job_.deadline_ns - now;
  uint64_t left_ms = left_ns > 0 ? static_cast<uint64_t>((left_ns + 999'999) / 1'000'000) : 0;
  deadline_timer_due_ns_ = now + static_cast<int64_t>(left_ms) * 1'000'000;
  uv_timer_start(&timer_, Cb::on_timer, left_ms, 0);
}

void Connection::arm_idle_timer() {
  deadline_timer_due_ns_ = 0;
  uv_timer_start(&timer_, Cb::on_timer, job_.idle_timeout_ms, 0);
}

void Connection::stop_timer() {
  deadline_timer_due_ns_ = 0;
  uv_timer_stop(&timer_);
}

void Connection::resolve() {
  state_ = State::Resolving;
  std::weak_ptr<char> alive = alive_;
  env_.dns->resolve(host_, [this, alive](const net::DnsAnswer& answer) {
    if (!alive.expired()) on_resolved(answer);
  });
}

void Connection::on_resolved(const net::DnsAnswer& answer) {
  if (state_ != State::Resolving) return;  // failed (timeout, cancel) while the lookup ran
  if (answer.status != 0) {
    ErrorCode code = (answer.status == UV_EAI_NONAME || answer.status == UV_EAI_NODATA) ? ErrorCode::DnsNoSuchHost
                                                                                       : ErrorCode::Dns;
    fail(code, "lookup " + host_ + ": " + uv_strerror(answer.status));
    return;
  }
  state_ = State::Connecting;
  addresses_ = answer.addresses;
  next_address_ = 0;
  connect_next();
}

// http_req_connecting covers the attempt that succeeds; time spent on failed attempts before it is part of
// http_req_blocked, which runs up to the start of that attempt (like the DNS lookup).
void Connection::connect_next() {
  sockaddr_storage address = (*addresses_)[next_address_++];
  if (address.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&address)->sin_port = htons(port_);
  } else {
    reinterpret_cast<sockaddr_in6*>(&address)->sin6_port = htons(port_);
  }
  connect_start_ns_ = core::mono_now_ns();
  job_.record->timing.blocked_ms = ms_between(job_.start_ns, connect_start_ns_);
  arm_attempt_timer();
  int rc = uv_tcp_connect(&connect_req_, &tcp_, reinterpret_cast<const sockaddr*>(&address), Cb::on_connect);
  if (rc != 0) on_dial_failed(rc);
}

// With addresses left to try and a request deadline, the timer first bounds this attempt; the request deadline is
// restored for the last attempt and once connected. A single address never gets here with attempt_timer_ set.
void Connection::arm_attempt_timer() {
  const size_t left = addresses_->size() - next_address_ + 1;
  const int64_t left_ns = job_.deadline_ns - connect_start_ns_;
  if (left > 1 && job_.deadline_ns != 0 && job_.idle_timeout_ms == 0 && left_ns > 0) {
    const uint64_t budget_ms = attempt_budget_ms(left_ns, left);
    if (budget_ms * 1'000'000 < static_cast<uint64_t>(left_ns)) {
      attempt_timer_ = true;
      deadline_timer_due_ns_ = 0;
      uv_timer_start(&timer_, Cb::on_timer, budget_ms, 0);
      return;
    }
  }
  if (attempt_timer_) {
    attempt_timer_ = false;
    arm_timer(core::mono_now_ns());
  }
}

// A socket whose connect failed cannot be reused (and the next address may be of the other family): the handle is
// closed and re-initialised in its close callback before the next attempt.
void Connection::on_dial_failed(int status) {
  if (tcp_recycling_) return;  // the attempt timer fired while the previous socket was still closing
  if (next_address_ >= addresses_->size() || !worth_next_address(status)) {
    std::string message = dial_message(status);
    if (addresses_->size() > 1) message += " (all " + std::to_string(addresses_->size()) + " addresses failed)";
    fail(dial_error(status), std::move(message));
    return;
  }
  tcp_recycling_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), Cb::on_tcp_recycled);
}

void Connection::on_tcp_recycled() {
  tcp_recycling_ = false;
  if (state_ == State::Closing) {
    on_handle_closed();  // failed (timeout, abort) while the old socket closed: close_handles() left tcp_ to us
    return;
  }
  uv_tcp_init(env_.loop, &tcp_);
  tcp_.data = this;
  connect_next();
}

// k6's shape, "dial tcp HOST:PORT: connection refused": which of several targets refused is in the message.
std::string Connection::dial_message(int status) const {
  const bool ipv6 = host_.find(':') != std::string::npos;
  const std::string host = ipv6 ? "[" + host_ + "]" : host_;
  return "dial tcp " + host + ":" + std::to_string(port_) + ": " + uv_strerror(status);
}

void Connection::on_connected(int status) {
  if (state_ == State::Closing || tcp_recycling_) return;  // the close cancelled the attempt
  if (status != 0) {
    on_dial_failed(status);
    return;
  }
  int64_t now = core::mono_now_ns();
  job_.record->timing.connecting_ms = ms_between(connect_start_ns_, now);
  if (next_address_ > 1) env_.dns->prefer(host_, (*addresses_)[next_address_ - 1]);
  addresses_.reset();
  if (attempt_timer_) {
    attempt_timer_ = false;
    arm_timer(now);
  }
  uv_tcp_nodelay(&tcp_, 1);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), Cb::on_alloc, Cb::on_read);
  if (https_) {
    start_tls();
    return;
  }
  begin_request(now);
}

void Connection::begin_request(int64_t now) {
  state_ = State::Active;
  write_start_ns_ = now;
  if (reused_) job_.record->timing.blocked_ms = ms_between(job_.start_ns, write_start_ns_);
  head_.clear();
  write_request_head(job_.method, *job_.url, *job_.headers, job_.body, &head_);
  job_.record->bytes_sent = head_.size() + job_.body.size();
  parser_.begin(job_.limits, job_.method == "HEAD", job_.response, job_.stream ? this : nullptr);
  write_pending_ = true;
  if (tls_) {
    write_tls();
  } else {
    write_plain();
  }
}

// The socket nearly always takes a request whole: written directly, it needs no write request, no completion
// callback and no loop turn (libuv re-registers the socket with epoll after every queued write). Only what the
// socket did not take is queued.
void Connection::write_plain() {
  uv_buf_t bufs[2] = {uv_buf_init(head_.data(), static_cast<unsigned>(head_.size())),
                      uv_buf_init(const_cast<char*>(job_.body.data()), static_cast<unsigned>(job_.body.size()))};
  const unsigned count = job_.body.empty() ? 1 : 2;
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  int written = uv_try_write(stream, bufs, count);
  if (written < 0 && written != UV_EAGAIN) {
    fail(io_error(written), std::string("write: ") + uv_strerror(written), reused_);
    return;
  }
  size_t taken = written > 0 ? static_cast<size_t>(written) : 0;
  if (taken == head_.size() + job_.body.size()) {
    write_pending_ = false;
    write_done_ns_ = core::mono_now_ns();
    return;
  }
  for (uv_buf_t& buf : bufs) {
    const size_t skip = std::min(taken, buf.len);
    buf.base += skip;
    buf.len -= skip;
    taken -= skip;
  }
  uv_buf_t* rest = bufs[0].len == 0 ? &bufs[1] : &bufs[0];
  const unsigned rest_count = bufs[0].len == 0 ? 1 : count;
  ++pending_writes_;
  int rc = uv_write(&write_req_, stream, rest, rest_count, Cb::on_write);
  if (rc != 0) {
    --pending_writes_;
    fail(io_error(rc), std::string("write: ") + uv_strerror(rc), reused_);
    return;
  }
  note_sent_if_flushed();
}

// libuv writes what the socket takes at once but reports it a loop turn later: timing the callback would add a
// whole turn of other VUs' work to http_req_sending.
void Connection::note_sent_if_flushed() {
  if (write_done_ns_ == 0 && uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(&tcp_)) == 0) {
    write_done_ns_ = core::mono_now_ns();
  }
}

void Connection::on_write_done(int status) {
  --pending_writes_;
  if (state_ == State::Closing) return;
  if (status != 0) {
    fail(io_error(status), std::string("write: ") + uv_strerror(status), reused_ && !response_started_);
    return;
  }
  if (pending_writes_ > 0 || !write_pending_) return;
  write_pending_ = false;
  if (write_done_ns_ == 0) write_done_ns_ = core::mono_now_ns();
}

void Connection::on_read(ssize_t nread, const char* data) {
  if (nread == 0 || state_ == State::Closing) return;
  if (nread < 0) {
    on_eof_or_error(nread);
    return;
  }
  if (has_job_ && job_.idle_timeout_ms > 0) arm_idle_timer();  // any byte, even TLS overhead, shows the peer is alive
  if (tls_) {
    on_tls_bytes(data, static_cast<size_t>(nread));
    return;
  }
  if (state_ != State::Active || response_done_) {
    // Bytes nobody asked for (on an idle connection, or after a complete response): the stream is out of sync.
    abort(ErrorCode::MalformedResponse, "unexpected data from the server");
    return;
  }
  job_.record->bytes_received += static_cast<uint64_t>(nread);
  on_response_bytes(data, static_cast<size_t>(nread));
}

void Connection::on_response_bytes(const char* data, size_t size) {
  const bool first = !response_started_;
  if (first) {
    response_started_ = true;
    first_byte_ns_ = core::mono_now_ns();
  }
  switch (parser_.feed(data, size)) {
    case ResponseParser::State::Incomplete: return;
    case ResponseParser::State::Failed: fail(parser_.error_code(), parser_.error()); return;
    case ResponseParser::State::Complete:
      extra_bytes_ = parser_.consumed() != size;
      // A response that arrived in one read ended when it began: its last byte came with its first (receiving is
      // 0), and parsing it is our time, not the server's or the network's.
      on_response_complete(first ? first_byte_ns_ : core::mono_now_ns());
      return;
  }
}

void Connection::on_eof_or_error(ssize_t nread) {
  if (state_ == State::Idle || !has_job_) {
    abort(ErrorCode::None);  // the server closed a keep-alive connection we were not using
    return;
  }
  bool retry = reused_ && !response_started_ && (nread == UV_EOF || nread == UV_ECONNRESET || nread == UV_EPIPE);
  if (nread != UV_EOF) {
    fail(io_error(static_cast<int>(nread)), std::string("read: ") + uv_strerror(static_cast<int>(nread)), retry);
    return;
  }
  if (state_ == State::Handshaking) {
    fail(ErrorCode::Tls, "tls: connection closed during the handshake");
    return;
  }
  if (response_started_ && parser_.finish() == ResponseParser::State::Complete) {
    on_response_complete(core::mono_now_ns());
    return;
  }
  fail(ErrorCode::ConnectionClosedEarly, "server closed the connection before the response was complete", retry);
}

void Connection::record_timing(int64_t now) {
  Exchange& record = *job_.record;
  // A server may answer before it has read the whole request (e.g. 413): waiting then counts from the first byte.
  int64_t first = std::max(first_byte_ns_, write_start_ns_);
  int64_t sent = std::min(write_done_ns_ != 0 ? write_done_ns_ : now, first);
  record.timing.sending_ms = ms_between(write_start_ns_, sent);
  record.timing.waiting_ms = ms_between(sent, first);
  record.timing.receiving_ms = ms_between(first, now);
  record.timing.duration_ms = record.timing.sending_ms + record.timing.waiting_ms + record.timing.receiving_ms;
}

// A streamed exchange is timed to its response head: the body may last as long as the stream is open.
bool Connection::on_head(int status) {
  job_.record->status = status;
  record_timing(core::mono_now_ns());
  streamed_ = owner_->on_stream_head(this, job_);
  return streamed_;
}

void Connection::on_body(const char* data, size_t size) { owner_->on_stream_body(this, job_, {data, size}); }

void Connection::on_response_complete(int64_t now) {
  // A request-deadline timer keeps running for the next request on this connection (see deadline_timer_due_ns_).
  if (deadline_timer_due_ns_ == 0) uv_timer_stop(&timer_);
  response_done_ = true;
  job_.record->status = parser_.status();
  if (!streamed_) record_timing(now);
  if (paused_) {
    // Paused by the last body piece of this very response: an idle connection must keep reading.
    paused_ = false;
    uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), Cb::on_alloc, Cb::on_read);
  }
  if (write_pending_) {
    // The request body is still being written from the caller's buffer: only the close callback, after libuv has
    // cancelled that write, may hand the job back.
    close_handles();
    return;
  }
  Job job = job_;
  has_job_ = false;
  if (parser_.keep_alive() && !extra_bytes_) {
    state_ = State::Idle;
    reused_ = true;
  } else {
    close_handles();
  }
  owner_->on_exchange_complete(this, job);
}

void Connection::on_timeout() {
  if (deadline_timer_due_ns_ != 0) {
    // Left running from an earlier request, or due before this job's deadline was extended: check the job at hand.
    deadline_timer_due_ns_ = 0;
    if (!has_job_ || job_.deadline_ns == 0 || job_.idle_timeout_ms > 0) return;
    const int64_t now = core::mono_now_ns();
    if (now < job_.deadline_ns) {
      arm_timer(now);
      return;
    }
  }
  if (attempt_timer_ && state_ == State::Connecting) {
    on_dial_failed(UV_ETIMEDOUT);  // this address took its share of the deadline: on to the next
    return;
  }
  if (job_.idle_timeout_ms > 0) {
    fail(ErrorCode::RequestTimeout, "idle timeout: no data for " + std::to_string(job_.idle_timeout_ms) + " ms");
    return;
  }
  fail(ErrorCode::RequestTimeout, "request timeout");
}

void Connection::pause_reading() {
  if (paused_ || state_ != State::Active) return;
  paused_ = true;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  if (job_.idle_timeout_ms > 0) stop_timer();
}

void Connection::resume_reading() {
  if (!paused_) return;
  paused_ = false;
  if (state_ != State::Active) return;
  uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), Cb::on_alloc, Cb::on_read);
  if (job_.idle_timeout_ms > 0) arm_idle_timer();
}

void Connection::stop_stream() {
  if (state_ == State::Closing || !has_job_) return;
  close_handles();
}

void Connection::abort(ErrorCode code, std::string detail) {
  if (state_ == State::Closing) return;
  if (has_job_) {
    // A running job must still complete: without a reason given, it failed for an unknown one.
    if (code == ErrorCode::None) code = ErrorCode::Generic;
    fail(code, detail.empty() ? std::string(default_message(code)) : std::move(detail));
    return;
  }
  has_job_ = false;
  close_handles();
}

void Connection::fail(ErrorCode code, std::string detail, bool retryable) {
  if (state_ == State::Closing) return;
  if (has_job_) {
    retryable_ = retryable;
    job_.record->status = 0;
    job_.record->error_code = code;
    job_.record->error = std::move(detail);
  }
  close_handles();
}

void Connection::close_handles() {
  if (state_ == State::Closing) return;
  state_ = State::Closing;
  uv_timer_stop(&timer_);
  if (!tcp_recycling_) uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), Cb::on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), Cb::on_close);
}

void Connection::on_handle_closed() {
  if (--handles_open_ > 0) return;
  // Pending writes were cancelled before this callback; the job's buffers are no longer referenced.
  owner_->on_connection_closed(this, has_job_ ? &job_ : nullptr);
}

}  // namespace luaload::engine::http
