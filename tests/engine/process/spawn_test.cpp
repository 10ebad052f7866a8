// SPDX-License-Identifier: MIT
// engine/process/spawn: PATH lookup, and the child's guarantees (own process group, killed with its thread).
#include "engine/process/spawn.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace luaload::test {
namespace {

using engine::process::Child;
using engine::process::Command;
using engine::process::find_executable;
using engine::process::spawn;

void close_fds(const Child& child) {
  for (int fd : {child.stdin_fd, child.stdout_fd, child.stderr_fd}) ::close(fd);
}

TEST(FindExecutable, LooksNamesUpInPathInOrder) {
  EXPECT_EQ(find_executable("sh", "/nonexistent:/bin:/usr/bin"), "/bin/sh");
  EXPECT_EQ(find_executable("sh", "/usr/bin:/bin"), "/usr/bin/sh");
  EXPECT_EQ(find_executable("luaload-no-such-command", "/bin:/usr/bin"), "");
}

TEST(FindExecutable, TakesAPathAsItIs) { EXPECT_EQ(find_executable("./x/y", "/bin"), "./x/y"); }

TEST(FindExecutable, SkipsDirectoriesAndFilesThatAreNotExecutable) {
  EXPECT_EQ(find_executable("passwd", "/etc:/usr/bin"), "/usr/bin/passwd");
  EXPECT_EQ(find_executable("bin", "/"), "");
}

TEST(Spawn, AnExecErrorIsReturnedAndNothingIsLeft) {
  Command command;
  command.file = "/etc/passwd";  // not executable
  Child child;
  EXPECT_EQ(spawn(command, &child), EACCES);
  EXPECT_EQ(child.pid, -1);
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);  // no child left to reap
  EXPECT_EQ(errno, ECHILD);
}

TEST(Spawn, TheChildLeadsAProcessGroupOfItsOwn) {
  Command command;
  command.file = "/bin/sleep";
  command.args = {"5"};
  Child child;
  ASSERT_EQ(spawn(command, &child), 0);
  EXPECT_EQ(::getpgid(child.pid), child.pid);
  EXPECT_EQ(::getsid(child.pid), child.pid);
  ::kill(child.pid, SIGKILL);
  EXPECT_EQ(::waitpid(child.pid, nullptr, 0), child.pid);
  close_fds(child);
}

TEST(Spawn, TheChildIsKilledWhenTheThreadThatStartedItEnds) {
  Child child;
  int error = -1;
  std::thread starter([&] {
    Command command;
    command.file = "/bin/sleep";
    command.args = {"30"};
    error = spawn(command, &child);
  });
  starter.join();
  ASSERT_EQ(error, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child.pid, &status, 0), child.pid);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  close_fds(child);
}

}  // namespace
}  // namespace luaload::test
