// SPDX-License-Identifier: MIT
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace luaload::engine::process {

// What to run.
struct Command {
  std::string file;               // an executable's path, or a name looked up in PATH (the child's PATH if env sets it)
  std::vector<std::string> args;  // argv[1..]; argv[0] is `file`
  std::vector<std::pair<std::string, std::string>> env;  // set on top of the inherited environment
  bool inherit_env = true;                               // false: the child's environment is `env` alone
  std::string cwd;                                       // empty: the parent's working directory
};

// The parent's side of a started child: its pid and the parent's ends of its stdin, stdout and stderr pipes
// (non-blocking, close-on-exec).
struct Child {
  pid_t pid = -1;
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// Starts `command` with stdin, stdout and stderr on pipes. The child:
// - runs in a session of its own (setsid): its process group id is its pid, so the group (the server and whatever
//   it started) can be signalled at once, and a terminal's Ctrl-C reaches luaload only;
// - has PR_SET_PDEATHSIG = SIGKILL: it is killed when the thread that started it ends, so a luaload that crashes
//   or is killed leaves no server behind (its stdin also reaches end of file then);
// - starts with default signal dispositions and an empty signal mask, and no descriptor of ours but the three.
// Returns 0 and fills *child, or an errno value (ENOENT: not found in PATH; EACCES, ENOEXEC, ENOTDIR...: the exec
// or chdir failed) and then no process exists and nothing is left open.
// Blocks the calling thread for the fork and the exec (about a millisecond), as uv_spawn does. Any thread.
int spawn(const Command& command, Child* child);

// The executable `file` resolves to with `path` (a PATH value), or "" when none is found; `file` containing a '/'
// is taken as it is.
std::string find_executable(const std::string& file, const std::string& path);

}  // namespace luaload::engine::process
