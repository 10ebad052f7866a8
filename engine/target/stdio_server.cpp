// SPDX-License-Identifier: MIT
// StdioServer's input, output and lifecycle; stdio_dispatch.cpp decides what each line is.
#include "engine/target/stdio_server.hpp"

#include <csignal>
#include <cstdio>
#include <utility>
#include <vector>

#include "engine/core/assert.hpp"
#include "engine/target/mcp_protocol.hpp"
#include "engine/target/stdio_state.hpp"

namespace luaload::engine::target {

namespace {

constexpr size_t kReadBufferBytes = 64 * 1024;

// A stdin or stdout handle of either kind; freed in its close callback.
union StreamHandle {
  uv_handle_t handle;
  uv_pipe_t pipe;
  uv_tty_t tty;
};

struct WriteRequest {
  uv_write_t req{};
  std::string data;
  StdioState* state = nullptr;
};

StdioState* state_of(uv_handle_t* handle) { return static_cast<StdioState*>(handle->data); }

// A pipe, a socket or a terminal on `fd`, or nullptr (a regular file or nothing: libuv cannot poll those).
uv_stream_t* open_stream(uv_loop_t* loop, int fd, bool readable, std::string* error) {
  const uv_handle_type type = uv_guess_handle(fd);
  auto* handle = new StreamHandle;
  int rc = UV_EINVAL;
  if (type == UV_NAMED_PIPE || type == UV_TCP) {
    rc = uv_pipe_init(loop, &handle->pipe, 0);
    if (rc == 0) rc = uv_pipe_open(&handle->pipe, fd);
  } else if (type == UV_TTY) {
    rc = uv_tty_init(loop, &handle->tty, fd, readable ? 1 : 0);
  }
  if (rc != 0) {
    delete handle;
    *error = std::string(fd == 0 ? "stdin" : "stdout") + " must be a pipe, a socket or a terminal";
    return nullptr;
  }
  return reinterpret_cast<uv_stream_t*>(&handle->handle);
}

void on_closed_cb(uv_handle_t* handle) {
  StdioState* state = state_of(handle);
  delete reinterpret_cast<StreamHandle*>(handle);
  state->open_handles--;
  state->maybe_close_handles();
}

void on_alloc_cb(uv_handle_t*, size_t, uv_buf_t* buf) {
  thread_local std::vector<char> buffer(kReadBufferBytes);
  *buf = uv_buf_init(buffer.data(), static_cast<unsigned>(buffer.size()));
}

void on_read_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  StdioState* state = state_of(reinterpret_cast<uv_handle_t*>(stream));
  if (nread > 0) {
    state->on_input(std::string_view(buf->base, static_cast<size_t>(nread)));
  } else if (nread < 0) {
    state->end();  // end of input: the client closed our stdin, the signal to exit
  }
}

void on_write_cb(uv_write_t* req, int status) {
  auto* request = reinterpret_cast<WriteRequest*>(req);
  StdioState* state = request->state;
  const size_t bytes = request->data.size();
  delete request;
  state->on_written(bytes, status);
}

}  // namespace

StdioState::StdioState(uv_loop_t* l, const TargetOptions& options) : loop(l), era(options.mcp_era) {
  server.list_fixtures = options.mcp_fixtures;
  server.cache_ttl_ms = options.mcp_cache_ttl_ms;
  server.retry_ms = options.mcp_retry_ms;
  server.listen_timeout_ms = options.mcp_listen_timeout_ms;
  server.heartbeat_ms = 0;  // stdio has no comment lines
}

bool StdioState::open(int in_fd, int out_fd, std::string* error) {
  in = open_stream(loop, in_fd, true, error);
  if (in == nullptr) return false;
  out = open_stream(loop, out_fd, false, error);
  if (out == nullptr) {
    uv_close(reinterpret_cast<uv_handle_t*>(in), [](uv_handle_t* h) { delete reinterpret_cast<StreamHandle*>(h); });
    in = nullptr;
    return false;
  }
  for (uv_stream_t* s : {in, out}) s->data = this;
  open_handles = 2;
  update_reading();
  return true;
}

void StdioState::on_input(std::string_view data) {
  splitter.feed(data, [this](process::Line&& line) {
    if (ended) return;
    if (line.overlong) return write(mcp::rpc_error(nullptr, mcp::kInvalidRequest, "Invalid Request: line too long"));
    on_line(line.text);
  });
}

void StdioState::write(const nlohmann::json& message) {
  if (ended || out == nullptr) return;
  auto* request = new WriteRequest;
  request->state = this;
  request->data = mcp::dump(message);
  request->data.push_back('\n');
  uv_buf_t buf = uv_buf_init(request->data.data(), static_cast<unsigned>(request->data.size()));
  if (uv_write(&request->req, out, &buf, 1, on_write_cb) != 0) {
    delete request;
    return end();
  }
  unwritten += buf.len;
  update_reading();
}

void StdioState::on_written(size_t bytes, int status) {
  unwritten -= bytes;
  if (status < 0 && status != UV_ECANCELED) end();  // EPIPE: the client stopped reading
  update_reading();
  maybe_close_handles();
}

// Reads stdin unless the client left, or too much of our output waits for it to read (it then blocks writing).
void StdioState::update_reading() {
  if (in == nullptr || uv_is_closing(reinterpret_cast<uv_handle_t*>(in))) return;
  const size_t limit = reading ? StdioServer::kMaxUnwrittenBytes : StdioServer::kMaxUnwrittenBytes / 4;
  const bool want = !ended && unwritten < limit;
  if (want && !reading) uv_read_start(in, on_alloc_cb, on_read_cb);
  if (!want && reading) uv_read_stop(in);
  reading = want;
}

void StdioState::end() {
  if (ended) return;
  ended = true;
  update_reading();
  cancel_all();
  if (on_end) on_end();
}

void StdioState::close(std::function<void()> closed) {
  LUALOAD_CHECK(!closing, "StdioServer::close called twice");
  closing = true;
  on_closed = std::move(closed);
  end();
  maybe_close_handles();
}

void StdioState::close_handle(uv_handle_t* handle) {
  if (handle != nullptr && !uv_is_closing(handle)) uv_close(handle, on_closed_cb);
}

// Once closing and every write is done (or cancelled), the streams close; on_closed runs after the last of them.
void StdioState::maybe_close_handles() {
  if (!closing) return;
  if (unwritten == 0) {
    close_handle(reinterpret_cast<uv_handle_t*>(in));
    close_handle(reinterpret_cast<uv_handle_t*>(out));
  }
  if (open_handles > 0 || !timers.empty() || !on_closed) return;
  auto done = std::move(on_closed);
  on_closed = nullptr;
  done();
}

StdioServer::StdioServer(uv_loop_t* loop, const TargetOptions& options)
    : state_(std::make_shared<StdioState>(loop, options)) {}

StdioServer::~StdioServer() {
  LUALOAD_CHECK(state_->in == nullptr || state_->open_handles == 0, "StdioServer destroyed before it closed");
}

bool StdioServer::start(int in_fd, int out_fd, std::function<void()> on_end, std::string* error) {
  state_->on_end = std::move(on_end);
  return state_->open(in_fd, out_fd, error);
}

void StdioServer::close(std::function<void()> on_closed) { state_->close(std::move(on_closed)); }

// run_stdio_server -------------------------------------------------------------------------------------------------

namespace {

struct Runner {
  uv_loop_t loop{};
  uv_signal_t sigint{}, sigterm{};
  std::unique_ptr<StdioServer> server;
  bool stopping = false;

  void stop() {
    if (stopping) return;
    stopping = true;
    for (uv_signal_t* s : {&sigint, &sigterm}) uv_close(reinterpret_cast<uv_handle_t*>(s), nullptr);
    server->close([] {});
  }
};

void on_signal_cb(uv_signal_t* handle, int) { static_cast<Runner*>(handle->data)->stop(); }

}  // namespace

int run_stdio_server(const TargetOptions& options, std::string* error) {
  std::signal(SIGPIPE, SIG_IGN);
  Runner runner;
  uv_loop_init(&runner.loop);
  runner.server = std::make_unique<StdioServer>(&runner.loop, options);
  if (!runner.server->start(
          0, 1, [&runner] { runner.stop(); }, error)) {
    uv_run(&runner.loop, UV_RUN_DEFAULT);
    uv_loop_close(&runner.loop);
    return 1;
  }
  for (auto [signal, number] : {std::pair{&runner.sigint, SIGINT}, std::pair{&runner.sigterm, SIGTERM}}) {
    uv_signal_init(&runner.loop, signal);
    signal->data = &runner;
    uv_signal_start(signal, on_signal_cb, number);
  }
  std::fprintf(stderr, "luaload target: serving MCP on stdin/stdout\n");
  uv_run(&runner.loop, UV_RUN_DEFAULT);
  runner.server.reset();
  return uv_loop_close(&runner.loop) == 0 ? 0 : 1;
}

}  // namespace luaload::engine::target
