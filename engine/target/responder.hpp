// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

namespace luaload::engine::target {

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

// How a route handler answers the request it was given. Implemented by the connection.
//
// Contract: a handler ends its exchange exactly once, with respond() or with begin_stream() ... end_stream(), either
// before it returns or later from a callback scheduled with after(). Requests pipelined behind it are not parsed
// until then, so responses always leave in request order. If the client goes away first, pending after() callbacks
// are dropped (never run) and the exchange simply ends: handlers keep no state that outlives the connection except
// through after() closures.
//
// Threading: the connection's loop thread only. Views passed in are copied before the call returns.
class Responder {
 public:
  virtual ~Responder() = default;

  // A complete response with Content-Length. `extra` headers are sent as given.
  virtual void respond(int status, std::string_view content_type, std::string_view body,
                       std::span<const HeaderField> extra = {}) = 0;

  // A streamed response (chunked on HTTP/1.1, close-delimited on HTTP/1.0): head now, data as it comes.
  virtual void begin_stream(int status, std::string_view content_type, std::span<const HeaderField> extra = {}) = 0;
  virtual void stream_write(std::string_view data) = 0;
  virtual void end_stream() = 0;

  // Runs `fn` on the loop after `delay_ms`. One pending callback per exchange: a new call replaces the previous one.
  virtual void after(uint64_t delay_ms, std::function<void()> fn) = 0;
};

}  // namespace luaload::engine::target
