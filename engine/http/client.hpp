// SPDX-License-Identifier: MIT
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "engine/http/types.hpp"

namespace luaload::engine::net {
class DnsCache;
}
namespace luaload::engine::tls {
class ClientContext;
}

namespace luaload::engine::http {

// Per-worker things every Client on that worker shares. Owned by the worker, outlives its Clients.
struct ClientEnvironment {
  uv_loop_t* loop = nullptr;
  net::DnsCache* dns = nullptr;
  tls::ClientContext* tls = nullptr;  // may be null: https:// requests then fail with ErrorCode::Tls
  // A read buffer shared by all connections of the worker: parsing is synchronous inside the read callback, so an
  // idle keep-alive connection pins no buffer of its own.
  std::vector<char>* read_buffer = nullptr;
};

// An HTTP/1.1 client belonging to one VU: it keeps that VU's keep-alive connections, one per scheme+host+port, as
// a browser would (a second concurrent request to the same origin opens a second connection).
//
// Threading: loop thread only. Completion: `done` runs exactly once, on the loop, never from inside send(); also on
// cancel() (with ErrorCode::Cancelled) and when the Client is closed with requests in flight.
//
// Lifecycle: construct -> send()* -> close(on_closed) -> (all sockets closed) on_closed -> destroy.
class Client {
 public:
  using RequestId = uint64_t;
  using Completion = std::function<void(Response&&)>;

  // The streaming mode of a request: the final response's body is handed over in pieces instead of being
  // buffered (and is not limited by max_response_body_bytes). Both run on the loop from inside the socket read
  // callback, never from inside stream(); they must not call into this Client except pause(). A redirect hop that
  // is followed is not streamed; when the final response arrives without on_headers (a failure before it, or a
  // redirect that could not be followed) the completion's Response carries whatever was received, body included.
  struct StreamCallbacks {
    // At most once: the final response's head. `exchange` has the status and the timing up to the head.
    std::function<void(const Response& head, const Exchange& exchange)> on_headers;
    // Each body piece, in order, after on_headers; `data` is valid only during the call.
    std::function<void(std::string_view data)> on_body;
  };

  explicit Client(const ClientEnvironment& env);
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  // The request is copied into a pooled slot that keeps its capacity: a caller reusing one Request object for
  // request after request makes sending allocation-free. `done` gets the Response by rvalue reference: it may
  // move from it, or only read it (then the Client reuses its buffers for the next request).
  RequestId send(const Request& request, Completion done);
  // Takes the request's buffers instead of copying them: for a big body, which is not worth keeping anyway.
  RequestId send(Request&& request, Completion done);
  // Like send(), with the body streamed. `done` runs exactly once, when the body ended, failed or was stopped;
  // its Response has an empty body once on_headers ran.
  RequestId stream(const Request& request, StreamCallbacks callbacks, Completion done);
  // `done` gets ErrorCode::Cancelled; or, when the request's connection was already closing, what that connection
  // ended with (a failure, or an answer that came early). Either way nothing more is sent for the request: no retry,
  // no redirect hop. No-op for a finished or unknown id.
  void cancel(RequestId id);
  // Streams: stop and restart reading the socket (backpressure: the peer is slowed down by TCP flow control). The
  // idle timeout does not run while paused. No-ops for a finished or unknown id.
  void pause(RequestId id);
  void resume(RequestId id);
  // Ends a stream early. After on_headers: its connection is discarded and `done` gets a Response without error
  // (status kept); before: like cancel(). Later, on the loop, never inside stop().
  void stop(RequestId id);

  // Cancels in-flight requests, closes every connection; on_closed runs from the last close callback (on a later
  // loop turn even if nothing was open).
  void close(std::function<void()> on_closed);

  size_t open_connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace luaload::engine::http
