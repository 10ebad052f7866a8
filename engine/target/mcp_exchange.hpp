// SPDX-License-Identifier: MIT
#pragma once

// Runs a Reply (mcp_methods.hpp) on a transport. The transport implements Sink; run() walks the steps, waits,
// asks, suspends and listens through it, and finally hands over the response. Used by Streamable HTTP
// (mcp_http_sink.cpp) and stdio alike.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "engine/target/mcp_methods.hpp"

namespace luaload::engine::target::mcp {

// The transport end of one exchange (one client request). All calls come from the transport's loop thread, from
// run() or from callbacks the sink itself scheduled.
//
// Ownership: the run owns its sink (a shared_ptr), and the callbacks handed to after() and await_answer() own the
// run. A sink must therefore not keep a callback once it has called it, nor once its transport is gone (drop it):
// a callback kept in the sink would be a reference cycle, and the exchange would never be freed.
class Sink {
 public:
  virtual ~Sink() = default;

  // A message that precedes the response: a notification or a server request. Transports that cannot stream
  // drop notifications.
  virtual void send(const nlohmann::json& message) = 0;
  // The final response; the exchange is over. `http_status` is Reply::http_status.
  virtual void respond(const nlohmann::json& response, int http_status) = 0;
  // The exchange ends without a response (a listen stream the transport closes, a suspended stream).
  virtual void finish() = 0;
  // Runs fn on the loop after delay_ms. At most one callback is pending; it is dropped if the transport goes away.
  virtual void after(uint64_t delay_ms, std::function<void()> fn) = 0;

  // Ask: the id for a new server request (unique within the session or process).
  virtual nlohmann::json next_request_id() = 0;
  // Ask: calls fn once with the client's JSON-RPC response to the server request `id` (already sent), or never if
  // the transport goes away first.
  virtual void await_answer(const nlohmann::json& id, std::function<void(const nlohmann::json&)> fn) = 0;
  // Suspend: true when the transport ended the stream and took `rest` (moved from it) to run with run() once the
  // client resumes; false (the default) leaves `rest` untouched and the run goes on right away.
  virtual bool suspend(Reply& rest) {
    (void)rest;
    return false;
  }
  // Listen: called every Server::heartbeat_ms while a listen stream is idle (an SSE comment); default nothing.
  virtual void heartbeat() {}
};

// Starts running `reply` on `sink`; returns once it waits (the rest continues from sink callbacks). The sink and
// the server must outlive every callback the sink runs. Session effects of the reply (set_log_level,
// subscription_changes) are the caller's to apply before.
void run(Server& server, std::shared_ptr<Sink> sink, Reply reply);

// How often a listen stream polls Server::changes.
inline constexpr uint64_t kListenPollMs = 20;

}  // namespace luaload::engine::target::mcp
