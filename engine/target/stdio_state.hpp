// SPDX-License-Identifier: MIT
#pragma once

// The inside of StdioServer (stdio_server.hpp), shared by its three files: stdio_server.cpp (input, output,
// lifecycle), stdio_dispatch.cpp (what each message is and who serves it) and stdio_sink.cpp (the mcp::Sink of one
// exchange, and timers). Loop thread only.
#include <uv.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "engine/process/line_splitter.hpp"
#include "engine/target/mcp_exchange.hpp"
#include "engine/target/target_options.hpp"

namespace luaload::engine::target {

class StdioSink;
struct StdioState;

// A one-shot timer whose handle frees itself in its close callback. `fn` is dropped, not run, when cancelled.
struct StdioTimer {
  uv_timer_t handle{};
  std::function<void()> fn;
  StdioState* state = nullptr;
};

// Lifecycle: running -> ended (the client is gone: no more input, exchanges dropped) -> closing (handles closing,
// after the output drained) -> closed (on_closed ran).
struct StdioState : std::enable_shared_from_this<StdioState> {
  static constexpr size_t kMaxLineBytes = 16 * 1024 * 1024;
  static constexpr uint64_t kChangePollMs = 50;

  StdioState(uv_loop_t* loop, const TargetOptions& options);

  // stdio_server.cpp
  bool open(int in_fd, int out_fd, std::string* error);
  void write(const nlohmann::json& message);
  void on_input(std::string_view data);
  void on_written(size_t bytes, int status);
  void update_reading();
  void end();
  void close(std::function<void()> closed);
  void close_handle(uv_handle_t* handle);
  void maybe_close_handles();

  // stdio_dispatch.cpp
  void on_line(std::string_view line);
  void on_request(const nlohmann::json& message);
  void on_notification(const nlohmann::json& message);
  void serve(const nlohmann::json& id, mcp::Reply reply);
  void serve_legacy(const nlohmann::json& message);
  void serve_modern(const nlohmann::json& message);
  void initialize(const nlohmann::json& message);
  void poll_changes();

  // stdio_sink.cpp
  StdioTimer* after(uint64_t delay_ms, std::function<void()> fn);
  void cancel(StdioTimer* timer);
  void cancel_all();

  uv_loop_t* loop;
  mcp::Server server;
  McpEra era;

  uv_stream_t* in = nullptr;  // a uv_pipe_t or uv_tty_t, freed in its close callback
  uv_stream_t* out = nullptr;
  process::LineSplitter splitter{kMaxLineBytes};
  size_t unwritten = 0;
  bool reading = false;
  bool ended = false;
  bool closing = false;
  std::function<void()> on_end;
  std::function<void()> on_closed;
  int open_handles = 0;

  // The legacy session: a stdio process serves one client, so it is the process's.
  bool initialized = false;
  mcp::Context session;
  std::set<std::string> subscriptions;
  StdioTimer* change_poll = nullptr;
  uint64_t seen_change = 0;

  std::unordered_map<std::string, std::shared_ptr<StdioSink>> exchanges;                 // in flight, by mcp::dump(id)
  std::unordered_map<std::string, std::function<void(const nlohmann::json&)>> awaiting;  // server request id
  uint64_t next_server_request = 0;
  std::unordered_set<StdioTimer*> timers;
};

// The stdio end of one exchange: messages go to stdout as lines until the response (or a cancellation).
class StdioSink final : public mcp::Sink {
 public:
  StdioSink(std::shared_ptr<StdioState> state, nlohmann::json id) : state_(std::move(state)), id_(std::move(id)) {}

  void send(const nlohmann::json& message) override;
  void respond(const nlohmann::json& response, int http_status) override;
  void finish() override;
  void after(uint64_t delay_ms, std::function<void()> fn) override;
  nlohmann::json next_request_id() override;
  void await_answer(const nlohmann::json& id, std::function<void(const nlohmann::json&)> fn) override;

  // notifications/cancelled, or the client left: nothing more is sent, the pending callback is dropped.
  void cancel();

 private:
  void done();

  std::shared_ptr<StdioState> state_;
  nlohmann::json id_;
  StdioTimer* pending_ = nullptr;
  std::string awaited_;  // the server request whose answer it waits for
  bool over_ = false;
};

}  // namespace luaload::engine::target
