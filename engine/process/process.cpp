// SPDX-License-Identifier: MIT
#include "engine/process/process.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "engine/core/assert.hpp"

namespace luaload::engine::process {

namespace {

constexpr uint64_t kReapPollMs = 20;
constexpr size_t kReadBufferBytes = 64 * 1024;

// One read buffer per loop thread: every read callback consumes its bytes before it returns, so the stdout and
// stderr of all the thread's processes can share it and an idle process pins no buffer of its own.
std::vector<char>& read_buffer() {
  thread_local std::vector<char> buffer(kReadBufferBytes);
  return buffer;
}

struct WriteRequest {
  uv_write_t req{};
  std::string data;
};

Process* owner_of(void* handle) { return static_cast<Process*>(static_cast<uv_handle_t*>(handle)->data); }

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

Process::Process(uv_loop_t* loop, const Limits& limits, Callbacks callbacks)
    : loop_(loop),
      limits_(limits),
      callbacks_(std::move(callbacks)),
      splitter_(limits.max_line_bytes),
      stderr_tail_(limits.stderr_tail_bytes) {}

Process::~Process() { LUALOAD_CHECK(state_ == State::Closed, "Process destroyed before close() completed"); }

std::unique_ptr<Process> Process::start(uv_loop_t* loop, const Command& command, const Limits& limits,
                                        Callbacks callbacks, int* error) {
  Child child;
  *error = spawn(command, &child);
  if (*error != 0) return nullptr;
  std::unique_ptr<Process> process(new Process(loop, limits, std::move(callbacks)));
  process->pid_ = child.pid;
  process->open_handles(child);
  return process;
}

void Process::open_handles(const Child& child) {
  const std::pair<uv_pipe_t*, int> pipes[] = {
      {&stdin_pipe_, child.stdin_fd}, {&stdout_pipe_, child.stdout_fd}, {&stderr_pipe_, child.stderr_fd}};
  for (auto [pipe, fd] : pipes) {
    LUALOAD_CHECK(uv_pipe_init(loop_, pipe, 0) == 0 && uv_pipe_open(pipe, fd) == 0, "cannot open a child's pipe");
    pipe->data = this;
    ++open_handles_;
  }
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  ++open_handles_;
  watch_exit();
  uv_read_start(reinterpret_cast<uv_stream_t*>(&stderr_pipe_), on_alloc_cb, on_stderr_cb);
  update_reading();
}

// A pidfd becomes readable when the child exits: one event, no SIGCHLD handler shared with libuv or other threads.
void Process::watch_exit() {
  pidfd_ = limits_.poll_for_exit ? -1 : pidfd_open(pid_);
  if (pidfd_ >= 0 && uv_poll_init(loop_, &exit_poll_, pidfd_) == 0) {
    exit_poll_.data = this;
    pidfd_watch_ = true;
    uv_poll_start(&exit_poll_, UV_READABLE, on_pidfd_cb);
  } else {
    if (pidfd_ >= 0) ::close(pidfd_);
    pidfd_ = -1;
    uv_timer_init(loop_, &reap_poll_);
    reap_poll_.data = this;
    uv_timer_start(&reap_poll_, on_reap_poll_cb, kReapPollMs, kReapPollMs);
  }
  ++open_handles_;
}

// Writing ---------------------------------------------------------------------------------------------------------

WriteResult Process::write_line(std::string_view message) {
  if (!stdin_open_ || on_closed_ || reaped_) return WriteResult::Closed;
  if (message.find('\n') != std::string_view::npos) return WriteResult::Invalid;
  if (write_bytes_ > 0 && write_bytes_ + message.size() + 1 > limits_.max_write_bytes) {
    want_writable_ = true;
    return WriteResult::Full;
  }
  auto* request = new WriteRequest;
  request->data.reserve(message.size() + 1);
  request->data.append(message).push_back('\n');
  uv_buf_t buf = uv_buf_init(request->data.data(), static_cast<unsigned>(request->data.size()));
  if (uv_write(&request->req, reinterpret_cast<uv_stream_t*>(&stdin_pipe_), &buf, 1, on_write_cb) != 0) {
    delete request;
    close_stdin();
    return WriteResult::Closed;
  }
  write_bytes_ += buf.len;
  return WriteResult::Queued;
}

void Process::on_write_cb(uv_write_t* req, int status) {
  auto* request = reinterpret_cast<WriteRequest*>(req);
  Process* self = owner_of(req->handle);
  const size_t bytes = request->data.size();
  delete request;
  self->on_written(bytes, status);
}

void Process::on_written(size_t bytes, int status) {
  write_bytes_ -= bytes;
  if (status < 0 && status != UV_ECANCELED) close_stdin();  // EPIPE: the child closed its stdin
  const bool room = write_bytes_ <= limits_.max_write_bytes / 2;
  if (!want_writable_ || on_closed_ || !(room || !stdin_open_)) return;
  want_writable_ = false;
  if (callbacks_.on_writable) callbacks_.on_writable();
}

void Process::close_stdin() {
  if (!stdin_open_) return;
  stdin_open_ = false;
  close_handle(reinterpret_cast<uv_handle_t*>(&stdin_pipe_));  // pending writes complete with UV_ECANCELED
}

// Reading ---------------------------------------------------------------------------------------------------------

void Process::on_alloc_cb(uv_handle_t*, size_t, uv_buf_t* buf) {
  std::vector<char>& buffer = read_buffer();
  *buf = uv_buf_init(buffer.data(), static_cast<unsigned>(buffer.size()));
}

void Process::on_stdout_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  Process* self = owner_of(stream);
  if (nread > 0) {
    self->on_stdout_data(std::string_view(buf->base, static_cast<size_t>(nread)));
  } else if (nread < 0) {
    self->on_stdout_end();
  }
}

void Process::on_stdout_data(std::string_view data) {
  const size_t before = lines_.size();
  splitter_.feed(data, [this](Line&& line) {
    if (on_closed_) return;  // stopping: read only so that the child is not blocked on a full pipe
    queued_bytes_ += line.text.size();
    lines_.push_back(std::move(line));
  });
  update_reading();
  if (lines_.size() > before && callbacks_.on_lines) callbacks_.on_lines();
}

void Process::on_stdout_end() {
  splitter_.finish([this](Line&& line) {
    if (on_closed_) return;
    queued_bytes_ += line.text.size();
    lines_.push_back(std::move(line));
  });
  stdout_ended_ = true;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&stdout_pipe_));
  reading_ = false;
  if (!on_closed_ && callbacks_.on_lines) callbacks_.on_lines();
  if (state_ == State::Draining) finish_exit();
}

void Process::on_stderr_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  Process* self = owner_of(stream);
  if (nread > 0) {
    self->stderr_tail_.append(std::string_view(buf->base, static_cast<size_t>(nread)));
  } else if (nread < 0) {
    uv_read_stop(stream);
  }
}

std::optional<Line> Process::pop_line() {
  if (lines_.empty()) return std::nullopt;
  Line line = std::move(lines_.front());
  lines_.pop_front();
  queued_bytes_ -= line.text.size();
  update_reading();
  return line;
}

// Reads stdout unless the queue is full (hysteresis: stops at max_queued_bytes, starts again under a quarter).
// After close() it reads regardless, discarding, so that a child blocked on a full pipe can see its end of input.
void Process::update_reading() {
  auto* stream = reinterpret_cast<uv_stream_t*>(&stdout_pipe_);
  if (stdout_ended_ || state_ == State::Closing || state_ == State::Closed) return;
  const size_t limit = reading_ ? limits_.max_queued_bytes : limits_.max_queued_bytes / 4;
  const bool want = on_closed_ || queued_bytes_ < limit;
  if (want && !reading_) uv_read_start(stream, on_alloc_cb, on_stdout_cb);
  if (!want && reading_) uv_read_stop(stream);
  reading_ = want;
}

// The end of the child ----------------------------------------------------------------------------------------------

void Process::on_pidfd_cb(uv_poll_t* handle, int, int) { owner_of(handle)->try_reap(); }

void Process::on_reap_poll_cb(uv_timer_t* handle) { owner_of(handle)->try_reap(); }

// The rest of the child's group is killed while the child is still a zombie: its pid (the group's id) cannot have
// been reused yet, so the signal reaches no stranger.
void Process::try_reap() {
  siginfo_t info{};
  const int rc = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
  if (rc == 0 && info.si_pid == 0) return;  // still running (a spurious wake-up)
  if (rc != 0 && errno != ECHILD) return;   // EINTR: the next poll tries again
  if (rc == 0) signal_group(SIGKILL);       // orphans of the server: nobody reads their output any more
  int status = 0;
  const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
  if (reaped == 0) return;
  on_reaped(reaped == pid_ ? status : -1);
}

void Process::on_reaped(int wait_status) {
  reaped_ = true;
  if (pidfd_watch_) {
    uv_poll_stop(&exit_poll_);
  } else {
    uv_timer_stop(&reap_poll_);
  }
  if (wait_status >= 0 && WIFSIGNALED(wait_status)) {
    exit_.signal = WTERMSIG(wait_status);
  } else {
    exit_.status = wait_status >= 0 && WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  }
  exit_.requested = exit_.requested || static_cast<bool>(on_closed_);
  close_stdin();
  state_ = State::Draining;
  if (stdout_ended_) {
    finish_exit();
    return;
  }
  uv_timer_start(&timer_, on_timer_cb, limits_.drain_after_exit_ms, 0);
}

void Process::on_timer_cb(uv_timer_t* handle) { owner_of(handle)->on_timer(); }

void Process::on_timer() {
  if (state_ == State::Draining) {
    if (!reading_) {
      // The owner has not drained the queue yet: what it will read is in the pipe, keep it.
      uv_timer_start(&timer_, on_timer_cb, limits_.drain_after_exit_ms, 0);
      return;
    }
    on_stdout_end();  // a grandchild outside the group holds the pipe: stop waiting for its end
    return;
  }
  if (reaped_) return;
  if (!kill_pending_) {
    signal_group(SIGTERM);
    kill_pending_ = true;
    uv_timer_start(&timer_, on_timer_cb, limits_.kill_after_ms, 0);
    return;
  }
  signal_group(SIGKILL);
}

void Process::finish_exit() {
  if (exit_reported_) return;
  uv_timer_stop(&timer_);
  state_ = State::Exited;
  exit_reported_ = true;
  if (callbacks_.on_exit) callbacks_.on_exit(exit_);
  if (state_ == State::Exited && on_closed_) close_handles();
}

void Process::signal_group(int sig) {
  if (pid_ > 0) ::kill(-pid_, sig);
}

void Process::kill() {
  if (reaped_) return;
  exit_.requested = true;
  signal_group(SIGTERM);
  kill_pending_ = true;
  uv_timer_start(&timer_, on_timer_cb, limits_.kill_after_ms, 0);
}

// Closing ---------------------------------------------------------------------------------------------------------

void Process::close(std::function<void()> on_closed) {
  LUALOAD_CHECK(!on_closed_ && state_ != State::Closing && state_ != State::Closed, "Process::close called twice");
  on_closed_ = on_closed ? std::move(on_closed) : [] {};
  lines_.clear();
  queued_bytes_ = 0;
  want_writable_ = false;
  switch (state_) {
    case State::Running:
      state_ = State::Stopping;
      exit_.requested = true;
      close_stdin();
      if (!kill_pending_) uv_timer_start(&timer_, on_timer_cb, limits_.term_after_ms, 0);
      update_reading();
      break;
    case State::Draining: update_reading(); break;
    case State::Exited: close_handles(); break;
    case State::Stopping:
    case State::Closing:
    case State::Closed: break;
  }
}

void Process::close_handles() {
  state_ = State::Closing;
  close_stdin();
  close_handle(reinterpret_cast<uv_handle_t*>(&stdout_pipe_));
  close_handle(reinterpret_cast<uv_handle_t*>(&stderr_pipe_));
  close_handle(reinterpret_cast<uv_handle_t*>(&timer_));
  close_handle(pidfd_watch_ ? reinterpret_cast<uv_handle_t*>(&exit_poll_)
                            : reinterpret_cast<uv_handle_t*>(&reap_poll_));
}

void Process::close_handle(uv_handle_t* handle) {
  if (!uv_is_closing(handle)) uv_close(handle, on_handle_closed_cb);
}

void Process::on_handle_closed_cb(uv_handle_t* handle) {
  Process* self = owner_of(handle);
  if (handle == reinterpret_cast<uv_handle_t*>(&self->exit_poll_)) ::close(self->pidfd_);
  if (--self->open_handles_ > 0 || self->state_ != State::Closing) return;
  self->state_ = State::Closed;
  auto on_closed = std::move(self->on_closed_);
  on_closed();  // may destroy *self
}

}  // namespace luaload::engine::process
