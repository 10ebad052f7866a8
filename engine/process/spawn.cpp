// SPDX-License-Identifier: MIT
// fork + execve by hand rather than uv_spawn or posix_spawn: neither can set PR_SET_PDEATHSIG in the child, and
// that is what keeps a crashed luaload from leaving servers behind. Between fork and exec the child calls only
// async-signal-safe functions (the parent may have other threads holding malloc's locks): everything it needs
// (paths, argv, envp) is built before the fork.
#include "engine/process/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

extern char** environ;

namespace luaload::engine::process {

namespace {

constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string env_entry(const std::string& name, const std::string& value) { return name + "=" + value; }

bool overridden(std::string_view entry, const Command& command) {
  const std::string_view name = entry.substr(0, entry.find('='));
  for (const auto& [key, value] : command.env) {
    if (name == key) return true;
  }
  return false;
}

std::vector<std::string> child_environment(const Command& command) {
  std::vector<std::string> result;
  if (command.inherit_env) {
    for (char** entry = environ; *entry != nullptr; ++entry) {
      if (!overridden(*entry, command)) result.emplace_back(*entry);
    }
  }
  for (const auto& [key, value] : command.env) result.push_back(env_entry(key, value));
  return result;
}

std::string child_path(const Command& command) {
  for (const auto& [key, value] : command.env) {
    if (key == "PATH") return value;
  }
  if (!command.inherit_env) return kDefaultPath;
  const char* path = std::getenv("PATH");
  return path != nullptr ? path : kDefaultPath;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> result;
  result.reserve(strings.size() + 1);
  for (std::string& s : strings) result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

// The three pipes of the child's standard streams plus the exec-error pipe, as [read, write] pairs.
struct Pipes {
  std::array<int, 2> in{-1, -1}, out{-1, -1}, err{-1, -1}, status{-1, -1};

  int open() {
    for (auto* p : {&in, &out, &err, &status}) {
      if (::pipe2(p->data(), O_CLOEXEC) != 0) return errno;
    }
    return 0;
  }
  void close_all() {
    for (auto* p : {&in, &out, &err, &status}) {
      for (int& fd : *p) {
        if (fd >= 0) ::close(fd);
        fd = -1;
      }
    }
  }
};

// In the child: puts the pipe ends on 0, 1 and 2. They are first copied above 2, in case one of them is there
// already (a parent started with a standard stream closed gets its pipes there) and would be overwritten.
bool place_standard_streams(const Pipes& pipes) {
  const std::array<int, 3> sources{pipes.in[0], pipes.out[1], pipes.err[1]};
  std::array<int, 3> high{};
  for (size_t i = 0; i < 3; ++i) {
    high[i] = ::fcntl(sources[i], F_DUPFD_CLOEXEC, 3);
    if (high[i] < 0) return false;
  }
  for (int target = 0; target < 3; ++target) {
    if (::dup2(high[target], target) != target) return false;
  }
  return true;
}

[[noreturn]] void fail_in_child(int status_fd) {
  const int error = errno;
  [[maybe_unused]] ssize_t n = ::write(status_fd, &error, sizeof(error));
  ::_exit(127);
}

// In the child, from fork to exec. Async-signal-safe calls only.
[[noreturn]] void run_child(const Pipes& pipes, pid_t parent, const char* file, char* const* argv, char* const* envp,
                            const char* cwd) {
  const int status_fd = pipes.status[1];
  ::setsid();
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before the line above: nobody wants this child
  if (!place_standard_streams(pipes)) fail_in_child(status_fd);
  // Descriptors the parent opened without O_CLOEXEC (a script's io.open) must not reach the server. The flag form
  // keeps status_fd open until the exec; kernels before 5.11 refuse it, and then only O_CLOEXEC protects us.
  ::syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */);
  if (cwd != nullptr && ::chdir(cwd) != 0) fail_in_child(status_fd);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(file, argv, envp);
  fail_in_child(status_fd);
}

// The exec's outcome: 0 when the status pipe closed empty (exec succeeded), else the child's errno.
int read_exec_status(int fd) {
  int error = 0;
  ssize_t n;
  do {
    n = ::read(fd, &error, sizeof(error));
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof(error)) ? error : 0;
}

void reap_blocking(pid_t pid) {
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

bool set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

}  // namespace

std::string find_executable(const std::string& file, const std::string& path) {
  if (file.empty()) return "";
  if (file.find('/') != std::string::npos) return file;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string dir = path.substr(start, end - start);
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + file;
    if (is_executable_file(candidate)) return candidate;
    start = end + 1;
  }
  return "";
}

int spawn(const Command& command, Child* child) {
  const std::string file = find_executable(command.file, child_path(command));
  if (file.empty()) return ENOENT;
  std::vector<std::string> args{command.file};
  args.insert(args.end(), command.args.begin(), command.args.end());
  std::vector<std::string> env = child_environment(command);
  std::vector<char*> argv = c_strings(args);
  std::vector<char*> envp = c_strings(env);
  const char* cwd = command.cwd.empty() ? nullptr : command.cwd.c_str();

  Pipes pipes;
  if (const int error = pipes.open(); error != 0) {
    pipes.close_all();
    return error;
  }
  // Signals stay blocked across the fork so that the child never runs one of the parent's handlers.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) run_child(pipes, parent, file.c_str(), argv.data(), envp.data(), cwd);
  const int fork_error = pid < 0 ? errno : 0;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (fork_error != 0) {
    pipes.close_all();
    return fork_error;
  }
  for (int* fd : {&pipes.in[0], &pipes.out[1], &pipes.err[1], &pipes.status[1]}) {
    ::close(*fd);
    *fd = -1;
  }
  const int exec_error = read_exec_status(pipes.status[0]);
  bool ok = exec_error == 0;
  for (int fd : {pipes.in[1], pipes.out[0], pipes.err[0]}) ok = ok && set_nonblocking(fd);
  if (!ok) {
    const int error = exec_error != 0 ? exec_error : errno;
    if (exec_error == 0) ::kill(-pid, SIGKILL);
    reap_blocking(pid);
    pipes.close_all();
    return error;
  }
  ::close(pipes.status[0]);
  *child = Child{pid, pipes.in[1], pipes.out[0], pipes.err[0]};
  return 0;
}

}  // namespace luaload::engine::process
