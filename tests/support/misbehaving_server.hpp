// SPDX-License-Identifier: MIT
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace luaload::test {

// What the server does with one request (after reading its head and its Content-Length body).
struct Reply {
  enum class Action {
    Respond,       // write `bytes` (then close if close_after)
    Close,         // close the connection without answering (FIN)
    Reset,         // abort the connection without answering (RST, SO_LINGER 0)
    NeverAnswer,   // keep the connection open and silent
  };
  Action action = Action::Respond;
  std::string bytes;         // raw response bytes, sent as they are: may be malformed on purpose
  bool close_after = false;  // close once `bytes` are written (close-delimited bodies, mid-body closes)
  size_t drip_bytes = 0;     // > 0: send `bytes` in pieces of this size...
  int drip_interval_ms = 5;  // ...this far apart
};

// Shorthands for replies that do not answer.
inline Reply close_reply() { return Reply{Reply::Action::Close, {}, false, 0, 0}; }
inline Reply reset_reply() { return Reply{Reply::Action::Reset, {}, false, 0, 0}; }
inline Reply silent_reply() { return Reply{Reply::Action::NeverAnswer, {}, false, 0, 0}; }

// Builds a well-formed response with a Content-Length body.
std::string http_response(int status, std::string_view body, std::string_view extra_headers = {});

// A local HTTP/1.1 server on 127.0.0.1, port 0, driven on the test's own loop, that answers each request as the test
// scripted it: request number i (counted over all connections) gets replies[i], the last reply repeating.
//
// Threading: the loop's thread. Lifecycle: construct (listening) -> run the loop -> close(on_closed) -> destroy
// after on_closed; close() also closes every accepted connection so the loop can end.
class MisbehavingServer {
 public:
  MisbehavingServer(uv_loop_t* loop, std::vector<Reply> replies);
  // Listens on `host` (an IPv4 or IPv6 literal, e.g. "::1" or "127.0.0.2") and `port` (0: any) instead; check
  // listening(), as the address may be unavailable on this machine or the port taken.
  MisbehavingServer(uv_loop_t* loop, std::vector<Reply> replies, std::string_view host, uint16_t port = 0);
  MisbehavingServer(const MisbehavingServer&) = delete;
  MisbehavingServer& operator=(const MisbehavingServer&) = delete;
  ~MisbehavingServer();

  uint16_t port() const { return port_; }
  bool listening() const { return listening_; }
  std::string url(std::string_view path = "/") const;
  size_t accepts() const { return accepts_; }
  size_t requests() const { return requests_; }
  const std::string& last_request_head() const { return last_head_; }
  size_t last_request_body_bytes() const { return last_body_bytes_; }
  // Every request so far, in arrival order: its head, and how many body bytes it carried.
  struct SeenRequest {
    std::string head;
    size_t body_bytes = 0;
  };
  const std::vector<SeenRequest>& seen_requests() const { return seen_; }

  void close(std::function<void()> on_closed);

  // Requests whose head arrives within [from, from + length) after the first request's are answered `delay` late
  // (a server stall, for coordinated-omission tests); the others as usual.
  void stall_window(uint64_t from_ms, uint64_t length_ms, uint64_t delay_ms);
  size_t stalled() const { return stalled_; }

  struct Peer;

 private:
  friend struct ServerCallbacks;
  void on_connection();
  void on_request(Peer* peer);
  void send_reply(Peer* peer, const Reply& reply);
  void drip(Peer* peer);
  void close_peer(Peer* peer, bool reset, bool graceful);
  void on_peer_closed(Peer* peer);
  void maybe_closed();

  uv_loop_t* loop_;
  uv_tcp_t listener_{};
  uint16_t port_ = 0;
  std::string host_ = "127.0.0.1";
  bool listening_ = false;
  std::vector<Reply> replies_;
  std::vector<std::unique_ptr<Peer>> peers_;
  size_t accepts_ = 0;
  size_t requests_ = 0;
  std::string last_head_;
  size_t last_body_bytes_ = 0;
  std::vector<SeenRequest> seen_;
  uint64_t first_request_ms_ = 0;
  uint64_t stall_from_ms_ = 0;
  uint64_t stall_length_ms_ = 0;
  uint64_t stall_delay_ms_ = 0;
  size_t stalled_ = 0;
  bool closing_ = false;
  bool listener_closed_ = false;
  std::function<void()> on_closed_;
};

// A port on 127.0.0.1 that nothing listens on (bound, then closed), for "connection refused".
uint16_t unused_port();

// Runs `loop` until `done()` or `timeout_ms` elapses; returns done(). Bounded, so a hang fails the test, not CI.
bool run_until(uv_loop_t* loop, const std::function<bool()>& done, int timeout_ms = 5000);

}  // namespace luaload::test
