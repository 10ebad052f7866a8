// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace luaload::test {

// How to start a child process. argv[0] is looked up in PATH when it has no '/'. The child gets stdin from
// /dev/null, its own process group (so a timeout kills its children too), the parent's environment plus `env`
// ("NAME=value" entries override inherited ones), and working_dir when it is not empty.
struct ProcessOptions {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::filesystem::path working_dir;
  std::chrono::milliseconds timeout{30'000};
};

struct ProcessResult {
  bool started = false;     // false: spawn failed, see spawn_error
  std::string spawn_error;  // e.g. "posix_spawn(nginx): No such file or directory"
  bool timed_out = false;   // the timeout expired and the process group was killed with SIGKILL
  int exit_code = -1;       // exit status when the process exited normally, else -1
  int term_signal = 0;      // the signal that ended it, else 0
  std::string out;          // everything written to stdout
  std::string err;          // everything written to stderr

  bool ok() const { return started && !timed_out && exit_code == 0; }
};

// Runs a command to completion, capturing its output; blocks the calling thread for at most about
// options.timeout plus a short grace for draining output. Never throws; failures are in the result.
ProcessResult run_process(const ProcessOptions& options);
// Shorthand: inherited environment, current directory.
ProcessResult run_process(std::vector<std::string> argv,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000));

// A child started in the background with stdout and stderr appended to log_file (a file, not a pipe, so a chatty
// child never blocks on a full pipe). The destructor stops it like stop(): owners can rely on RAII.
// One thread only.
class BackgroundProcess {
 public:
  BackgroundProcess() = default;
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // Starts the child (options.timeout is ignored). False with *error set when it cannot be spawned.
  bool start(const ProcessOptions& options, const std::filesystem::path& log_file, std::string* error);
  bool start(std::vector<std::string> argv, const std::filesystem::path& log_file, std::string* error);

  // True while the child has not been reaped. Reaps it (without blocking) when it has exited.
  bool running();
  pid_t pid() const { return pid_; }
  // Raw wait status once reaped (see waitpid), -1 before.
  int wait_status() const { return wait_status_; }

  // Sends `first` to the process group, waits up to `grace` for the child to exit, then SIGKILLs the group and
  // reaps it. Safe to call when not running. Returns true when the child exited within the grace period.
  bool stop(int first_signal, std::chrono::milliseconds grace);

 private:
  pid_t pid_ = -1;
  int wait_status_ = -1;
};

}  // namespace luaload::test
