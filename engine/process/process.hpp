// SPDX-License-Identifier: MIT
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/process/line_splitter.hpp"
#include "engine/process/spawn.hpp"

namespace luaload::engine::process {

struct Limits {
  size_t max_line_bytes = 16 * 1024 * 1024;  // a longer stdout line is dropped (reported as Line::overlong)
  size_t max_queued_bytes = 1024 * 1024;     // stdout is not read while this much waits in the line queue
  size_t max_write_bytes = 1024 * 1024;      // write_line() refuses while this much waits to be written
  size_t stderr_tail_bytes = 8 * 1024;       // the end of stderr kept for error messages
  uint64_t term_after_ms = 1000;             // close(): SIGTERM this long after stdin was closed
  uint64_t kill_after_ms = 1000;             // close() and kill(): SIGKILL this long after SIGTERM
  uint64_t drain_after_exit_ms = 500;        // how long stdout may stay open (a grandchild) once the child is reaped
  // Watch for the exit with waitpid() every 20 ms instead of a pidfd. Used by itself where pidfd_open() is missing
  // (Linux before 5.3, or a seccomp filter refuses it); the tests set it to cover that path.
  bool poll_for_exit = false;
};

// How a child ended.
struct Exit {
  int64_t status = 0;      // its exit status, when signal == 0
  int signal = 0;          // the signal that ended it, else 0
  bool requested = false;  // it ended after close() or kill() asked it to
};

enum class WriteResult { Queued, Full, Closed, Invalid };

// A child process on a uv loop, speaking lines: newline-terminated messages written to its stdin, lines read from
// its stdout into a bounded queue, the end of its stderr kept, its exit reported.
//
// Threading: loop thread only. Ownership: the owner holds the Process and must call close() before destroying it,
// then destroy it only once on_closed ran (or from inside on_closed). Callbacks run on the loop from libuv
// callbacks, never from inside a call of the owner; they may call any method but must not destroy the Process.
//
// Exactly once: on_exit runs once for every started child, whether it exited, was killed, or was stopped by
// close(); always after the child was reaped and after its stdout was read to the end (so every line it wrote is
// in the queue by then), and before on_closed.
//
// Backpressure: stdout is not read while max_queued_bytes of lines wait in the queue (the child then blocks on its
// next write) and again once pop_line() brought the queue under a quarter of it. Memory per process stays under
// max_queued_bytes + max_line_bytes + one pipe read, plus max_write_bytes of unwritten input.
//
// States:
// | state    | event                                  | next                                                    |
// | running  | stdout ends                            | running (stdout_ended; on_lines)                        |
// | running  | kill()                                 | running: SIGTERM to the group, SIGKILL after kill_after |
// | running  | close()                                | stopping: stdin closed, SIGTERM after term_after, ...   |
// | running, stopping | the child is reaped           | draining: the rest of its group SIGKILLed, stdin closed |
// | draining | stdout ends, or drain_after_exit_ms passed while reading | exited: on_exit                       |
// | exited   | close() (or close() was called before) | closing: every handle closed                           |
// | closing  | the last close callback                | closed: on_closed                                       |
// After close() the queue is emptied and no on_lines or on_writable run; lines that arrive are dropped.
class Process {
 public:
  struct Callbacks {
    std::function<void()> on_lines;            // lines were queued, or stdout ended
    std::function<void()> on_writable;         // write_line() returned Full and now accepts again
    std::function<void(const Exit&)> on_exit;  // exactly once, see above
  };

  // Starts the child. nullptr and *error (an errno value, see spawn()) when it could not be started: then no
  // callback ever runs and there is nothing to close.
  static std::unique_ptr<Process> start(uv_loop_t* loop, const Command& command, const Limits& limits,
                                        Callbacks callbacks, int* error);

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  // Queues message + "\n" for the child's stdin. Full: max_write_bytes are waiting already (a message is always
  // taken into an empty queue, whatever its size), on_writable follows once half of it was written. Closed: the
  // child's stdin is closed (close(), the child's exit, or it closed its end). Invalid: `message` has a newline.
  WriteResult write_line(std::string_view message);
  size_t unwritten_bytes() const { return write_bytes_; }

  // The oldest queued line, if any.
  std::optional<Line> pop_line();
  size_t queued_lines() const { return lines_.size(); }
  size_t queued_bytes() const { return queued_bytes_; }
  bool stdout_ended() const { return stdout_ended_; }

  // The last Limits::stderr_tail_bytes of stderr.
  std::string stderr_tail() const { return stderr_tail_.tail(); }
  pid_t pid() const { return pid_; }
  bool exited() const { return exit_reported_; }
  const Exit& exit() const { return exit_; }

  // SIGTERM to the child's process group now, SIGKILL after kill_after_ms unless it was reaped. No-op once reaped.
  void kill();
  // Ends the child politely, then less so: stdin is closed (MCP servers exit at end of input), SIGTERM follows
  // after term_after_ms, SIGKILL after kill_after_ms more. Once it is reaped (and on_exit ran) every handle is
  // closed and on_closed runs, on a later loop turn than this call. Call it once.
  void close(std::function<void()> on_closed);

 private:
  enum class State { Running, Stopping, Draining, Exited, Closing, Closed };

  Process(uv_loop_t* loop, const Limits& limits, Callbacks callbacks);
  void open_handles(const Child& child);
  void watch_exit();

  static void on_alloc_cb(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_stdout_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_stderr_cb(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write_cb(uv_write_t* req, int status);
  static void on_pidfd_cb(uv_poll_t* handle, int status, int events);
  static void on_reap_poll_cb(uv_timer_t* handle);
  static void on_timer_cb(uv_timer_t* handle);
  static void on_handle_closed_cb(uv_handle_t* handle);

  void on_stdout_data(std::string_view data);
  void on_stdout_end();
  void on_written(size_t bytes, int status);
  void try_reap();
  void on_reaped(int wait_status);
  void on_timer();
  void update_reading();
  void finish_exit();
  void close_stdin();
  void signal_group(int sig);
  void close_handles();
  void close_handle(uv_handle_t* handle);

  uv_loop_t* loop_;
  Limits limits_;
  Callbacks callbacks_;
  State state_ = State::Running;
  pid_t pid_ = -1;
  int pidfd_ = -1;

  uv_pipe_t stdin_pipe_{};
  uv_pipe_t stdout_pipe_{};
  uv_pipe_t stderr_pipe_{};
  uv_poll_t exit_poll_{};   // readable when the child exits (a pidfd)
  uv_timer_t reap_poll_{};  // without pidfds (kernels before 5.3): waitpid every kReapPollMs instead
  uv_timer_t timer_{};      // SIGTERM / SIGKILL escalation, then the drain deadline
  bool pidfd_watch_ = false;
  int open_handles_ = 0;

  bool stdin_open_ = true;
  bool stdout_open_ = true;
  bool reading_ = false;
  bool stdout_ended_ = false;
  bool stderr_open_ = true;
  bool want_writable_ = false;
  bool kill_pending_ = false;  // the timer's next step is SIGKILL (else SIGTERM)
  size_t write_bytes_ = 0;

  LineSplitter splitter_;
  std::deque<Line> lines_;
  size_t queued_bytes_ = 0;
  TailBuffer stderr_tail_;

  Exit exit_;
  bool reaped_ = false;
  bool exit_reported_ = false;
  std::function<void()> on_closed_;
};

}  // namespace luaload::engine::process
