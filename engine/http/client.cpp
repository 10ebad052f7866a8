// SPDX-License-Identifier: MIT
#include "engine/http/client.hpp"

#include <unordered_map>
#include <unordered_set>

#include "engine/core/assert.hpp"
#include "engine/core/clock.hpp"
#include "engine/http/connection.hpp"
#include "engine/net/deferred_queue.hpp"

namespace luaload::engine::http {
namespace {

constexpr size_t kReadBufferBytes = 64 * 1024;
// A pooled Op keeps the capacity of its request and response bodies up to this size; a bigger one is released as
// soon as the completion returns, so that thousands of VUs between requests do not each hold a large buffer.
constexpr size_t kKeptBodyBytes = 4 * 1024;

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

void release_if_big(std::string* buffer) {
  if (buffer->capacity() > kKeptBodyBytes) std::string().swap(*buffer);
}

// Clears an exchange record but keeps its strings' capacity.
void reset_exchange(Exchange* exchange) {
  exchange->method.clear();
  exchange->url.clear();
  exchange->status = 0;
  exchange->timing = RequestTiming{};
  exchange->bytes_sent = exchange->bytes_received = 0;
  exchange->error_code = ErrorCode::None;
  exchange->error.clear();
}

void erase_headers(Headers* headers, std::string_view name) {
  std::erase_if(*headers, [name](const Header& header) { return same_header_name(header.first, name); });
}

}  // namespace

// One request from send() to its completion, across redirect hops and one retry. Pooled: a VU sends one request
// after another, so the same few Ops are reused, and with them the capacity of their request and response strings
// (the completion gets the Op's Response by rvalue reference and may move from it, or just read it).
struct Op {
  Client::RequestId id = 0;  // 0 while the Op is free
  uint32_t slot = 0;         // index in op_storage_
  Request request;
  Client::Completion done;
  Client::StreamCallbacks stream;
  bool streaming = false;
  bool head_delivered = false;
  Url url;
  Response response;
  Exchange current;
  int64_t deadline_ns = 0;
  int redirects = 0;
  bool retried = false;
  // cancel()/stop() came while the connection was already closing (aborting it then does nothing): the job still
  // comes back from the close callback, and must end there rather than go on to a retry or a redirect hop.
  bool cancelled = false;
  Connection* connection = nullptr;
};

class Client::Impl final : public ConnectionOwner {
 public:
  explicit Impl(const ClientEnvironment& env) : env_(env), deferred_(env.loop) {
    if (env_.read_buffer == nullptr) env_.read_buffer = &own_read_buffer_;
    if (env_.read_buffer->empty()) env_.read_buffer->resize(kReadBufferBytes);
  }
  ~Impl() override { LUALOAD_CHECK(closed_, "Client destroyed before close() completed"); }

  // Request: const Request& (copied into the Op's buffers) or Request&& (its buffers taken).
  template <class RequestRef>
  RequestId send(RequestRef&& request, Completion done, StreamCallbacks* stream = nullptr);
  void cancel(RequestId id);
  void pause(RequestId id);
  void resume(RequestId id);
  void stop(RequestId id);
  void close(std::function<void()> on_closed);
  size_t open_connections() const { return connections_.size(); }

  void on_exchange_complete(Connection* connection, const Job& job) override;
  void on_connection_closed(Connection* connection, const Job* failed_job) override;
  bool on_stream_head(Connection* connection, const Job& job) override;
  void on_stream_body(Connection* connection, const Job& job, std::string_view data) override;

 private:
  Connection* running_connection(RequestId id);
  Op* find_op(RequestId id);
  Op* acquire_op();
  void reset_response(Response* response);
  void start_hop(Op* op, bool allow_reuse, int64_t now);
  Connection* take_connection(const Url& url, bool allow_reuse);
  void park(Connection* connection);
  void finish_hop(Op* op);
  bool follow_redirect(Op* op);
  void fail_later(Op* op, ErrorCode code, std::string detail);
  void complete(Op* op);
  void maybe_closed();

  ClientEnvironment env_;
  // A VU mostly requests the same few URLs over and over; parsing one costs more than copying the result.
  std::string last_url_text_;
  std::optional<Url> last_url_;
  std::vector<char> own_read_buffer_;
  net::DeferredQueue deferred_;
  // A RequestId is a serial number (high 32 bits) and the Op's slot (low 32 bits): finding a running request is an
  // index and a compare, and ids are never reused.
  uint64_t next_serial_ = 1;
  std::vector<std::unique_ptr<Op>> op_storage_;
  std::vector<Op*> free_ops_;
  std::unordered_set<Connection*> connections_;
  // origin -> its one idle keep-alive connection, or nullptr. Entries stay when the connection is taken, so that
  // taking and parking a connection for every request allocates nothing.
  std::unordered_map<std::string, Connection*> idle_;
  bool closing_ = false;
  bool deferred_closed_ = false;
  bool closed_ = false;
  std::function<void()> on_closed_;
};

Op* Client::Impl::acquire_op() {
  Op* op = nullptr;
  if (free_ops_.empty()) {
    op_storage_.push_back(std::make_unique<Op>());
    op = op_storage_.back().get();
    op->slot = static_cast<uint32_t>(op_storage_.size() - 1);
  } else {
    op = free_ops_.back();
    free_ops_.pop_back();
  }
  op->id = (next_serial_++ << 32) | op->slot;
  return op;
}

Op* Client::Impl::find_op(RequestId id) {
  const uint64_t slot = id & 0xffffffffu;
  if (id == 0 || slot >= op_storage_.size()) return nullptr;
  Op* op = op_storage_[slot].get();
  return op->id == id ? op : nullptr;
}

void Client::Impl::reset_response(Response* response) {
  reset_exchange(&response->final);
  response->redirects.clear();
  response->proto = "HTTP/1.1";
  response->headers.clear();
  response->body.clear();  // a big buffer was already released when the last completion returned
  response->tls_version.clear();
}

template <class RequestRef>
Client::RequestId Client::Impl::send(RequestRef&& request, Completion done, StreamCallbacks* stream) {
  LUALOAD_CHECK(!closing_, "Client::send after close()");
  Op* op = acquire_op();
  op->request = std::forward<RequestRef>(request);
  op->done = std::move(done);
  op->streaming = stream != nullptr;
  op->stream = stream != nullptr ? std::move(*stream) : StreamCallbacks{};
  op->head_delivered = false;
  reset_response(&op->response);
  reset_exchange(&op->current);
  op->redirects = 0;
  op->retried = false;
  op->cancelled = false;
  op->connection = nullptr;
  const int64_t now = core::mono_now_ns();
  op->deadline_ns = op->request.timeout_s > 0 && op->request.idle_timeout_s <= 0
                        ? now + static_cast<int64_t>(op->request.timeout_s * 1e9)
                        : 0;
  if (op->request.url != last_url_text_ || last_url_text_.empty()) {
    last_url_text_ = op->request.url;
    last_url_ = parse_url(last_url_text_);
  }
  const std::optional<Url>& url = last_url_;
  op->current.method = op->request.method;
  op->current.url = op->request.url;
  if (!url) {
    fail_later(op, ErrorCode::InvalidUrl, "invalid URL: " + op->request.url);
    return op->id;
  }
  op->url = *url;
  start_hop(op, true, now);
  return op->id;
}

void Client::Impl::start_hop(Op* op, bool allow_reuse, int64_t now) {
  op->current.status = 0;
  op->current.timing = RequestTiming{};
  op->current.bytes_sent = op->current.bytes_received = 0;
  op->current.error_code = ErrorCode::None;
  op->current.error.clear();
  Connection* connection = take_connection(op->url, allow_reuse);
  op->connection = connection;
  Job job;
  job.method = op->request.method;
  job.url = &op->url;
  job.headers = &op->request.headers;
  job.body = op->request.body;
  job.limits = op->request.limits;
  job.response = &op->response;
  job.record = &op->current;
  job.start_ns = now;
  job.deadline_ns = op->deadline_ns;
  job.idle_timeout_ms =
      op->request.idle_timeout_s > 0 ? static_cast<uint64_t>(std::max(1.0, op->request.idle_timeout_s * 1000.0)) : 0;
  job.stream = op->streaming;
  job.context = op;
  connection->start(job);
}

Connection* Client::Impl::take_connection(const Url& url, bool allow_reuse) {
  auto it = idle_.find(url.origin);
  if (it != idle_.end() && it->second != nullptr) {
    Connection* idle = it->second;
    it->second = nullptr;
    if (allow_reuse && idle->state() == Connection::State::Idle) return idle;
    // A retry must not land on another connection that went stale the same way; close the candidate instead.
    if (idle->state() == Connection::State::Idle) idle->abort(ErrorCode::None);
  }
  auto* connection = new Connection(env_, this, url);
  connections_.insert(connection);
  return connection;
}

void Client::Impl::park(Connection* connection) {
  auto it = idle_.find(connection->origin());
  if (it == idle_.end()) {
    idle_.emplace(connection->origin(), connection);
    return;
  }
  if (it->second == nullptr) {
    it->second = connection;
    return;
  }
  if (it->second->state() == Connection::State::Idle) {
    connection->abort(ErrorCode::None);  // one idle connection per origin is enough for one VU
    return;
  }
  it->second = connection;
}

void Client::Impl::on_exchange_complete(Connection* connection, const Job& job) {
  auto* op = static_cast<Op*>(job.context);
  op->connection = nullptr;
  if (connection->state() == Connection::State::Idle) {
    if (closing_) {
      connection->abort(ErrorCode::None);
    } else {
      park(connection);
    }
  }
  if (!connection->tls_version().empty()) op->response.tls_version = connection->tls_version();
  finish_hop(op);
}

void Client::Impl::on_connection_closed(Connection* connection, const Job* failed_job) {
  connections_.erase(connection);
  auto it = idle_.find(connection->origin());
  if (it != idle_.end() && it->second == connection) it->second = nullptr;
  bool retry = connection->retryable();
  if (failed_job != nullptr) {
    auto* op = static_cast<Op*>(failed_job->context);
    op->connection = nullptr;
    if (!connection->tls_version().empty()) op->response.tls_version = connection->tls_version();
    if (retry && !op->retried && !closing_ && !op->cancelled) {
      // The server closed a reused keep-alive connection before answering: standard client behaviour is to send
      // the request again, once, on a fresh connection.
      op->retried = true;
      start_hop(op, false, core::mono_now_ns());
    } else if (op->current.error_code == ErrorCode::None) {
      finish_hop(op);
    } else {
      complete(op);
    }
  }
  delete connection;
  maybe_closed();
}

bool Client::Impl::on_stream_head(Connection* connection, const Job& job) {
  auto* op = static_cast<Op*>(job.context);
  // A redirect that will be followed is an ordinary hop; its (small) body is read and dropped as usual.
  if (is_redirect(op->current.status) && op->request.max_redirects > 0 &&
      op->response.headers.find("location")) {
    return false;
  }
  if (!connection->tls_version().empty()) op->response.tls_version = connection->tls_version();
  op->head_delivered = true;
  if (op->stream.on_headers) op->stream.on_headers(op->response, op->current);
  return true;
}

void Client::Impl::on_stream_body(Connection* connection, const Job& job, std::string_view data) {
  auto* op = static_cast<Op*>(job.context);
  if (op->stream.on_body) op->stream.on_body(data);
}

void Client::Impl::finish_hop(Op* op) {
  // A closing Client or a cancelled request follows no redirect: the next hop would send a request after close() or
  // cancel() (which could not abort a connection already closing) and hold close() up. The 3xx is what it got.
  if (!closing_ && !op->cancelled && is_redirect(op->current.status) && follow_redirect(op)) return;
  complete(op);
}

bool Client::Impl::follow_redirect(Op* op) {
  const std::optional<std::string_view> location = op->response.headers.find("location");
  if (!location || op->request.max_redirects <= 0) return false;
  if (op->redirects >= op->request.max_redirects) {
    op->current.error_code = ErrorCode::TooManyRedirects;
    op->current.error = "stopped after " + std::to_string(op->redirects) + " redirects";
    return false;
  }
  auto next = resolve_location(op->url, *location);
  if (!next) return false;
  int status = op->current.status;
  if (status != 307 && status != 308 && op->request.method != "HEAD") {
    op->request.method = "GET";
    op->request.body.clear();
    erase_headers(&op->request.headers, "content-length");
    erase_headers(&op->request.headers, "content-type");
    erase_headers(&op->request.headers, "transfer-encoding");
  }
  if (next->host != op->url.host) {
    // Credentials are for the host they were given to, and a Host header naming it would misroute the request.
    erase_headers(&op->request.headers, "authorization");
    erase_headers(&op->request.headers, "host");
  }
  op->response.redirects.push_back(std::move(op->current));
  op->url = std::move(*next);
  ++op->redirects;
  op->retried = false;
  op->current = Exchange{};
  op->current.method = op->request.method;
  op->current.url = op->url.to_string();
  // Headers, body and TLS version are the final hop's: the next hop must not show the redirect's (it may fail
  // before answering, or be plain HTTP).
  op->response.headers.clear();
  op->response.body.clear();
  op->response.tls_version.clear();
  start_hop(op, true, core::mono_now_ns());
  return true;
}

void Client::Impl::fail_later(Op* op, ErrorCode code, std::string detail) {
  op->current.error_code = code;
  op->current.error = std::move(detail);
  deferred_.post([this, op] { complete(op); });
}

void Client::Impl::complete(Op* op) {
  // Swapped, not moved: the Op keeps the other Exchange's string capacity for its next request.
  std::swap(op->response.final, op->current);
  op->response.request_id = op->id;
  Completion done = std::move(op->done);
  op->done = nullptr;
  op->stream = StreamCallbacks{};
  op->id = 0;
  release_if_big(&op->request.body);
  // The Op goes back to the pool only after `done` returned: a request sent from inside `done` must not reuse the
  // Response that `done` is looking at.
  done(std::move(op->response));
  release_if_big(&op->response.body);
  op->response.headers.clear();
  free_ops_.push_back(op);
}

void Client::Impl::cancel(RequestId id) {
  Op* op = find_op(id);
  if (op == nullptr || op->connection == nullptr) return;  // done, or already completing
  op->cancelled = true;
  op->connection->abort(ErrorCode::Cancelled, "request cancelled");
}

Connection* Client::Impl::running_connection(RequestId id) {
  Op* op = find_op(id);
  return op == nullptr ? nullptr : op->connection;
}

void Client::Impl::pause(RequestId id) {
  if (Connection* connection = running_connection(id)) connection->pause_reading();
}

void Client::Impl::resume(RequestId id) {
  if (Connection* connection = running_connection(id)) connection->resume_reading();
}

void Client::Impl::stop(RequestId id) {
  Op* op = find_op(id);
  if (op == nullptr || op->connection == nullptr) return;
  op->cancelled = true;
  if (op->head_delivered) {
    op->connection->stop_stream();
  } else {
    op->connection->abort(ErrorCode::Cancelled, "request cancelled");
  }
}

void Client::Impl::close(std::function<void()> on_closed) {
  LUALOAD_CHECK(!closing_, "Client::close called twice");
  closing_ = true;
  on_closed_ = std::move(on_closed);
  std::vector<Connection*> all(connections_.begin(), connections_.end());
  for (Connection* connection : all) connection->abort(ErrorCode::Cancelled, "client closed");
  idle_.clear();
  deferred_.close([this] {
    deferred_closed_ = true;
    maybe_closed();
  });
}

void Client::Impl::maybe_closed() {
  if (!closing_ || !deferred_closed_ || !connections_.empty() || closed_) return;
  closed_ = true;
  if (on_closed_) {
    auto done = std::move(on_closed_);
    on_closed_ = nullptr;
    done();
  }
}

Client::Client(const ClientEnvironment& env) : impl_(std::make_unique<Impl>(env)) {}
Client::~Client() = default;
Client::RequestId Client::send(const Request& request, Completion done) {
  return impl_->send(request, std::move(done));
}
Client::RequestId Client::send(Request&& request, Completion done) {
  return impl_->send(std::move(request), std::move(done));
}
Client::RequestId Client::stream(const Request& request, StreamCallbacks callbacks, Completion done) {
  return impl_->send(request, std::move(done), &callbacks);
}
void Client::cancel(RequestId id) { impl_->cancel(id); }
void Client::pause(RequestId id) { impl_->pause(id); }
void Client::resume(RequestId id) { impl_->resume(id); }
void Client::stop(RequestId id) { impl_->stop(id); }
void Client::close(std::function<void()> on_closed) { impl_->close(std::move(on_closed)); }
size_t Client::open_connections() const { return impl_->open_connections(); }

}  // namespace luaload::engine::http
