// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/http/error_code.hpp"
#include "engine/http/headers.hpp"

namespace luaload::engine::http {

struct RequestLimits {
  size_t max_response_header_bytes = 64 * 1024;
  size_t max_response_body_bytes = 128 * 1024 * 1024;
};

inline constexpr double kDefaultRequestTimeoutS = 60.0;

struct Request {
  std::string method = "GET";
  std::string url;  // absolute http:// or https:// URL
  Headers headers;  // Host, Content-Length, User-Agent are added when absent
  std::string body;
  double timeout_s = kDefaultRequestTimeoutS;  // whole request, including redirects; <= 0 means none
  // > 0: fail with RequestTimeout when no byte arrives for this long (the timer restarts on every read and is off
  // while a stream is paused). Replaces timeout_s when set; meant for streams, which have no overall deadline.
  double idle_timeout_s = 0;
  int max_redirects = 10;   // 0: return the 3xx response as it is
  RequestLimits limits;
};

// k6's phases, in milliseconds from the monotonic clock. duration = sending + waiting + receiving.
// blocked is the time spent before the connection attempt could start (DNS lookup, waiting for a free connection).
struct RequestTiming {
  double blocked_ms = 0;
  double connecting_ms = 0;
  double tls_handshaking_ms = 0;
  double sending_ms = 0;
  double waiting_ms = 0;
  double receiving_ms = 0;
  double duration_ms = 0;
};

// One request/response exchange on the wire. A redirect chain produces one Exchange per hop.
struct Exchange {
  std::string method;
  std::string url;
  int status = 0;  // 0 when the exchange failed at the network/protocol level
  RequestTiming timing;
  uint64_t bytes_sent = 0;      // bytes written to the socket for this exchange (TLS overhead excluded)
  uint64_t bytes_received = 0;  // bytes read from the socket for this exchange (TLS overhead excluded)
  ErrorCode error_code = ErrorCode::None;
  std::string error;  // empty on success
};

struct Response {
  uint64_t request_id = 0;         // the Client's RequestId of the request this answers
  Exchange final;                  // the last hop: what the script sees
  std::vector<Exchange> redirects;  // earlier hops, in order; each is a separate http_reqs sample
  std::string proto = "HTTP/1.1";
  ResponseHeaders headers;  // of the final hop
  std::string body;
  std::string tls_version;  // e.g. "tls1.3", empty for plain HTTP
};

}  // namespace luaload::engine::http
