// SPDX-License-Identifier: MIT
#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

extern char** environ;

namespace luaload::test {
namespace {

using Clock = std::chrono::steady_clock;

// How long output may keep flowing after the child itself exited (a grandchild may still hold the pipes).
constexpr std::chrono::milliseconds kDrainGrace{500};
constexpr std::chrono::milliseconds kPollSlice{10};

std::string errno_text(const char* what, int error) { return std::string(what) + ": " + std::strerror(error); }

std::vector<std::string> merged_environment(const std::vector<std::string>& overrides) {
  std::vector<std::string> result;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view inherited(*entry);
    const std::string_view name = inherited.substr(0, inherited.find('='));
    bool overridden = false;
    for (const std::string& o : overrides) {
      overridden = overridden || (o.size() > name.size() && o.compare(0, name.size(), name) == 0 &&
                                  o[name.size()] == '=');
    }
    if (!overridden) result.emplace_back(inherited);
  }
  result.insert(result.end(), overrides.begin(), overrides.end());
  return result;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (std::string& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

// Spawns the child in its own process group with stdin on /dev/null and stdout/stderr on the given fds.
// Returns 0 or an errno value. glibc's posix_spawn reports exec failures (e.g. ENOENT) here, synchronously.
int spawn_child(const ProcessOptions& options, int out_fd, int err_fd, pid_t* pid) {
  if (options.argv.empty()) return EINVAL;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  if (!options.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.working_dir.c_str());
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigset_t defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> argv_copy = options.argv;
  std::vector<std::string> env_copy = merged_environment(options.env);
  std::vector<char*> argv = c_strings(argv_copy);
  std::vector<char*> envp = c_strings(env_copy);
  const int rc = posix_spawnp(pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  return rc;
}

bool try_reap(pid_t pid, int* status) { return ::waitpid(pid, status, WNOHANG) == pid; }

void decode_status(int status, ProcessResult* result) {
  if (WIFEXITED(status)) result->exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result->term_signal = WTERMSIG(status);
}

// Reads what is available on fd into sink; closes fd and sets it to -1 at end of file or on error.
void read_some(int* fd, std::string* sink) {
  std::array<char, 16384> buffer;
  const ssize_t n = ::read(*fd, buffer.data(), buffer.size());
  if (n > 0) {
    sink->append(buffer.data(), static_cast<size_t>(n));
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    ::close(*fd);
    *fd = -1;
  }
}

void poll_outputs(std::array<int, 2>& fds, ProcessResult* result, std::chrono::milliseconds wait) {
  std::array<pollfd, 2> polls{};
  nfds_t count = 0;
  for (int fd : fds) {
    if (fd >= 0) polls[count++] = pollfd{fd, POLLIN, 0};
  }
  if (count == 0) {
    std::this_thread::sleep_for(wait);
    return;
  }
  if (::poll(polls.data(), count, static_cast<int>(wait.count())) <= 0) return;
  for (nfds_t i = 0; i < count; ++i) {
    if (polls[i].revents == 0) continue;
    const bool is_out = polls[i].fd == fds[0];
    read_some(is_out ? &fds[0] : &fds[1], is_out ? &result->out : &result->err);
  }
}

// Collects output until the child exited and both pipes closed, or the deadline passed (then the whole process
// group is killed). Always reaps the child.
void collect(pid_t pid, std::array<int, 2>& fds, Clock::time_point deadline, ProcessResult* result) {
  int status = 0;
  bool reaped = false;
  while (!(reaped && fds[0] < 0 && fds[1] < 0)) {
    if (!reaped && try_reap(pid, &status)) {
      reaped = true;
      deadline = std::min(deadline, Clock::now() + kDrainGrace);
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    poll_outputs(fds, result, std::min(left, kPollSlice));
  }
  if (!reaped || fds[0] >= 0 || fds[1] >= 0) ::kill(-pid, SIGKILL);
  if (!reaped) {
    result->timed_out = true;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  for (int& fd : fds) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  decode_status(status, result);
}

}  // namespace

ProcessResult run_process(const ProcessOptions& options) {
  ProcessResult result;
  int out_pipe[2];
  int err_pipe[2];
  // O_CLOEXEC: other tests' children spawned concurrently must not inherit our pipe ends and keep them open.
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    result.spawn_error = errno_text("pipe2", errno);
    return result;
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.spawn_error = errno_text("pipe2", errno);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return result;
  }
  pid_t pid = -1;
  const auto deadline = Clock::now() + options.timeout;
  const int rc = spawn_child(options, out_pipe[1], err_pipe[1], &pid);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  std::array<int, 2> fds{out_pipe[0], err_pipe[0]};
  if (rc != 0) {
    result.spawn_error = errno_text(("posix_spawn(" + options.argv.front() + ")").c_str(), rc);
    ::close(fds[0]);
    ::close(fds[1]);
    return result;
  }
  result.started = true;
  collect(pid, fds, deadline, &result);
  return result;
}

ProcessResult run_process(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  ProcessOptions options;
  options.argv = std::move(argv);
  options.timeout = timeout;
  return run_process(options);
}

bool BackgroundProcess::start(std::vector<std::string> argv, const std::filesystem::path& log_file,
                              std::string* error) {
  ProcessOptions options;
  options.argv = std::move(argv);
  return start(options, log_file, error);
}

BackgroundProcess::~BackgroundProcess() { stop(SIGTERM, std::chrono::milliseconds(2000)); }

bool BackgroundProcess::start(const ProcessOptions& options, const std::filesystem::path& log_file,
                              std::string* error) {
  if (pid_ >= 0) {
    *error = "BackgroundProcess::start: already started";
    return false;
  }
  const int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    *error = errno_text(("open(" + log_file.string() + ")").c_str(), errno);
    return false;
  }
  const int rc = spawn_child(options, log_fd, log_fd, &pid_);
  ::close(log_fd);
  if (rc != 0) {
    pid_ = -1;
    *error = errno_text(("posix_spawn(" + (options.argv.empty() ? "" : options.argv.front()) + ")").c_str(), rc);
    return false;
  }
  wait_status_ = -1;
  return true;
}

bool BackgroundProcess::running() {
  if (pid_ < 0) return false;
  int status = 0;
  if (!try_reap(pid_, &status)) return true;
  wait_status_ = status;
  pid_ = -1;
  return false;
}

bool BackgroundProcess::stop(int first_signal, std::chrono::milliseconds grace) {
  if (!running()) return true;
  ::kill(-pid_, first_signal);
  const auto deadline = Clock::now() + grace;
  while (Clock::now() < deadline) {
    if (!running()) return true;
    std::this_thread::sleep_for(kPollSlice);
  }
  ::kill(-pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  wait_status_ = status;
  pid_ = -1;
  return false;
}

}  // namespace luaload::test
