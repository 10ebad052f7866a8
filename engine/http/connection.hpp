// SPDX-License-Identifier: MIT
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/http/client.hpp"
#include "engine/http/response_parser.hpp"
#include "engine/http/types.hpp"
#include "engine/http/url.hpp"
#include "engine/net/dns_cache.hpp"

namespace luaload::engine::tls {
class ClientSession;
}

namespace luaload::engine::http {

class Connection;

// One request/response exchange handed to a connection. Everything it points to must stay valid until the owner
// is told the exchange ended (on_exchange_complete or on_connection_closed with this job).
struct Job {
  std::string_view method;
  const Url* url = nullptr;
  const Headers* headers = nullptr;
  std::string_view body;
  RequestLimits limits;
  Response* response = nullptr;  // headers and body land here
  Exchange* record = nullptr;    // status, timing, bytes, error land here
  int64_t start_ns = 0;          // when the hop began: the start of "blocked"
  int64_t deadline_ns = 0;       // request timeout (monotonic); 0 for none
  uint64_t idle_timeout_ms = 0;  // > 0: inactivity timeout instead of the deadline, restarted on every read
  bool stream = false;           // offer the final response's body to on_stream_head/on_stream_body
  void* context = nullptr;       // the owner's, untouched
};

// What a Connection tells its Client. Both run on the loop, never from inside Connection::start().
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // The job succeeded (record filled in). The connection is now idle (reusable) or already closing.
  virtual void on_exchange_complete(Connection* connection, const Job& job) = 0;
  // Every handle is closed. If a job was running it failed (record has the error); retryable() says whether it may
  // be sent again on a fresh connection. The owner deletes the connection after this.
  virtual void on_connection_closed(Connection* connection, const Job* failed_job) = 0;
  // Streaming jobs only, from inside the read callback. A non-1xx response head arrived (status and timing are in
  // the record, headers in the response); return true to get its body through on_stream_body instead of buffered.
  virtual bool on_stream_head(Connection* connection, const Job& job) { return false; }
  virtual void on_stream_body(Connection* connection, const Job& job, std::string_view data) {}
};

// One HTTP/1.1 connection (TCP, optionally TLS) to one origin: resolves, connects, handshakes, writes requests,
// parses responses, keeps reading while idle so a server-side close is noticed at once. Connecting tries the
// resolved addresses in order: when one fails (refused, unreachable, timed out by the kernel) the socket is closed
// and the next is dialled; the job fails with the last dial error only once every address failed. Under a request
// deadline, an attempt with addresses still left after it gets only a share of the time left (Go's rule: equal
// shares, at least 2 s), so a silent address cannot use up the whole request timeout.
//
// States: Fresh -> Resolving -> Connecting (one attempt per address until one connects) -> Handshaking (https) ->
// Active <-> Idle; any -> Closing -> Closed.
// Threading: loop thread only. Owned by the Client; deleted by it from on_connection_closed.
class Connection final : private ResponseParser::Listener {
 public:
  enum class State { Fresh, Resolving, Connecting, Handshaking, Active, Idle, Closing };

  Connection(const ClientEnvironment& env, ConnectionOwner* owner, const Url& origin_url);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Starts an exchange. Precondition: state is Fresh or Idle.
  void start(const Job& job);
  // Fails the running job with `code` (Generic if None) or, without a job, just closes. No-op once closing.
  void abort(ErrorCode code, std::string detail = {});

  State state() const { return state_; }
  const std::string& origin() const { return origin_; }
  bool reused() const { return reused_; }
  bool retryable() const { return retryable_; }
  const std::string& tls_version() const { return tls_version_; }

  // Streams: stop/restart reading the socket (backpressure); the idle timer is off while paused. Any state.
  void pause_reading();
  void resume_reading();
  // Ends a streamed job early without an error: the connection is closed (the rest of the body is unread) and the
  // owner gets on_connection_closed with the job and its record as it was. No-op once closing.
  void stop_stream();

 private:
  friend struct ConnectionCallbacks;

  // connection.cpp: lifecycle, connect, plain I/O, timeout
  void resolve();
  void on_resolved(const net::DnsAnswer& answer);
  void connect_next();
  void arm_attempt_timer();
  void on_dial_failed(int status);
  void on_tcp_recycled();
  void on_connected(int status);
  std::string dial_message(int status) const;
  // `now`: the caller's clock reading, taken just before (one clock read per event, not one per step).
  void begin_request(int64_t now);
  void write_plain();
  void note_sent_if_flushed();
  void on_write_done(int status);
  void on_read(ssize_t nread, const char* data);
  void on_eof_or_error(ssize_t nread);
  void on_response_bytes(const char* data, size_t size);
  void on_response_complete(int64_t now);
  void on_timeout();
  bool on_head(int status) override;
  void on_body(const char* data, size_t size) override;
  void record_timing(int64_t now);
  void fail(ErrorCode code, std::string detail, bool retryable = false);
  void close_handles();
  void on_handle_closed();
  // The job's timer: its idle timeout (restarted), or its request deadline (kept when already due no later).
  void arm_timer(int64_t now);
  void arm_idle_timer();
  void stop_timer();
  // connection_tls.cpp
  void start_tls();
  void drive_handshake();
  void on_tls_bytes(const char* data, size_t size);
  void write_tls();
  bool flush_tls();
  void fail_tls();
  static void on_tls_write_cb(uv_write_t* req, int status);

  const ClientEnvironment env_;
  ConnectionOwner* owner_;
  std::string origin_;
  std::string host_;
  uint16_t port_;
  bool https_;
  State state_ = State::Fresh;
  Job job_{};
  bool has_job_ = false;
  bool reused_ = false;
  bool retryable_ = false;
  bool write_pending_ = false;
  bool response_done_ = false;
  bool response_started_ = false;
  bool streamed_ = false;  // the owner took this job's body in pieces
  bool paused_ = false;
  bool extra_bytes_ = false;  // the server sent more than the response: the stream cannot be trusted for reuse
  int pending_writes_ = 0;  // uv_write requests in flight (several with TLS)
  int handles_open_ = 0;
  // Dialling: the answer being tried (shared with the DNS cache) and the index of the next address to try.
  std::shared_ptr<const net::AddressList> addresses_;
  size_t next_address_ = 0;
  bool tcp_recycling_ = false;  // tcp_ is closing after a failed attempt and will be re-initialised for the next
  // When timer_ runs for a request deadline: when it fires. It is left running between requests (they mostly share
  // one timeout), so a request costs no timer restart; on_timeout() re-checks the deadline of the job at hand.
  int64_t deadline_timer_due_ns_ = 0;
  bool attempt_timer_ = false;  // timer_ bounds the current connect attempt rather than the request
  int64_t connect_start_ns_ = 0, tls_start_ns_ = 0, write_start_ns_ = 0, write_done_ns_ = 0, first_byte_ns_ = 0;

  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_connect_t connect_req_{};
  uv_write_t write_req_{};
  std::string head_;  // request head buffer, reused across requests
  ResponseParser parser_;
  std::unique_ptr<tls::ClientSession> tls_;
  std::string tls_plain_;  // decrypted bytes awaiting the parser, reused
  std::string tls_version_;
  std::shared_ptr<char> alive_;  // lets a DNS answer arriving after destruction be ignored
};

}  // namespace luaload::engine::http
