// SPDX-License-Identifier: MIT
// A child's start, exit, kill and close: each ending reported once, every child reaped, every handle closed.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>

#include "process_fixture.hpp"

namespace luaload::test {
namespace {

using engine::process::WriteResult;

class ProcessLifecycle : public ProcessFixture {};

TEST_F(ProcessLifecycle, AMissingCommandFailsToStartWithEnoent) {
  engine::process::Command command;
  command.file = "luaload-no-such-command";
  EXPECT_FALSE(start(command));
  EXPECT_EQ(start_error_, ENOENT);
}

TEST_F(ProcessLifecycle, AMissingWorkingDirectoryFailsToStart) {
  engine::process::Command command;
  command.file = "/bin/sh";
  command.args = {"-c", "exit 0"};
  command.cwd = "/nonexistent/luaload";
  EXPECT_FALSE(start(command));
  EXPECT_EQ(start_error_, ENOENT);
}

TEST_F(ProcessLifecycle, AnExitStatusIsReportedOnceAndTheChildIsReaped) {
  ASSERT_TRUE(start_sh("exit 3"));
  ASSERT_TRUE(run_until([this] { return exited(); }, 5000));
  run_for(20);
  EXPECT_EQ(exit_calls_, 1);
  EXPECT_EQ(exit_.status, 3);
  EXPECT_EQ(exit_.signal, 0);
  EXPECT_FALSE(exit_.requested);
  EXPECT_TRUE(gone(pid_));
  close_process();
  ASSERT_TRUE(run_until([this] { return closed_calls_ == 1; }, 5000));
  EXPECT_EQ(exit_calls_, 1);
}

TEST_F(ProcessLifecycle, WithoutAPidfdTheExitIsFoundByPolling) {
  limits_.poll_for_exit = true;
  limits_.term_after_ms = 50;
  limits_.kill_after_ms = 50;
  ASSERT_TRUE(start_sh("trap '' TERM; echo ready; exec sleep 30"));
  ASSERT_TRUE(run_until([this] { return process_->queued_lines() == 1; }, 5000));
  close_process();
  ASSERT_TRUE(run_until([this] { return closed_calls_ == 1; }, 5000));
  EXPECT_EQ(exit_calls_, 1);
  EXPECT_EQ(exit_.signal, SIGKILL);
  EXPECT_TRUE(gone(pid_));
}

TEST_F(ProcessLifecycle, ASignalThatEndsTheChildIsReported) {
  ASSERT_TRUE(start_sh("kill -9 $$"));
  ASSERT_TRUE(run_until([this] { return exited(); }, 5000));
  EXPECT_EQ(exit_.signal, SIGKILL);
  EXPECT_FALSE(exit_.requested);
}

TEST_F(ProcessLifecycle, CloseEndsAChildThatExitsAtEndOfInputWithoutSignals) {
  limits_.term_after_ms = 5000;
  ASSERT_TRUE(start_sh("cat > /dev/null; exit 7"));
  const auto started = std::chrono::steady_clock::now();
  close_process();
  ASSERT_TRUE(run_until([this] { return closed_calls_ == 1; }, 5000));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_EQ(exit_calls_, 1);
  EXPECT_EQ(exit_.status, 7);
  EXPECT_TRUE(exit_.requested);
  EXPECT_TRUE(gone(pid_));
}

TEST_F(ProcessLifecycle, CloseEscalatesToSigkillForAChildThatIgnoresEverything) {
  limits_.term_after_ms = 100;
  limits_.kill_after_ms = 100;
  ASSERT_TRUE(start_sh("trap '' TERM; echo ready; exec sleep 30"));
  ASSERT_TRUE(run_until([this] { return process_->queued_lines() == 1; }, 5000));
  const auto started = std::chrono::steady_clock::now();
  close_process();
  ASSERT_TRUE(run_until([this] { return closed_calls_ == 1; }, 5000));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  EXPECT_EQ(exit_calls_, 1);
  EXPECT_EQ(exit_.signal, SIGKILL);
  EXPECT_TRUE(exit_.requested);
  EXPECT_TRUE(gone(pid_));
}

TEST_F(ProcessLifecycle, KillSendsSigtermToTheGroup) {
  ASSERT_TRUE(start_sh("echo ready; exec sleep 30"));
  ASSERT_TRUE(run_until([this] { return process_->queued_lines() == 1; }, 5000));
  process_->kill();
  ASSERT_TRUE(run_until([this] { return exited(); }, 5000));
  EXPECT_EQ(exit_.signal, SIGTERM);
  EXPECT_TRUE(exit_.requested);
  EXPECT_EQ(process_->write_line("late"), WriteResult::Closed);
}

TEST_F(ProcessLifecycle, KillEscalatesToSigkillAfterTheGracePeriod) {
  limits_.kill_after_ms = 100;
  ASSERT_TRUE(start_sh("trap '' TERM; echo ready; while :; do sleep 0.05; done"));
  ASSERT_TRUE(run_until([this] { return process_->queued_lines() == 1; }, 5000));
  process_->kill();
  ASSERT_TRUE(run_until([this] { return exited(); }, 5000));
  EXPECT_EQ(exit_.signal, SIGKILL);
}

TEST_F(ProcessLifecycle, WhatTheChildStartedDiesWithIt) {
  ASSERT_TRUE(start_sh("sleep 30 & echo $!; exit 0"));
  ASSERT_TRUE(run_until([this] { return exited(); }, 5000));
  auto lines = pop_all();
  ASSERT_EQ(lines.size(), 1u);
  const pid_t grandchild = std::stoi(lines[0]);
  // It was SIGKILLed with the group (whoever reaps orphans here may take a moment).
  EXPECT_TRUE(run_until([grandchild] { return dead(grandchild); }, 3000));
}

TEST_F(ProcessLifecycle, AGrandchildOutsideTheGroupHoldingStdoutDelaysTheExitOnlyBriefly) {
  limits_.drain_after_exit_ms = 100;
  ASSERT_TRUE(start_sh("setsid sh -c 'echo $$; exec sleep 5' & sleep 0.2; exit 0"));
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until([this] { return exited(); }, 5000));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
  auto lines = pop_all();
  ASSERT_EQ(lines.size(), 1u);
  ::kill(std::stoi(lines[0]), SIGKILL);
  EXPECT_EQ(exit_.status, 0);
}

TEST_F(ProcessLifecycle, CloseAfterTheExitClosesEveryHandle) {
  ASSERT_TRUE(start_sh("echo bye"));
  ASSERT_TRUE(run_until([this] { return exited(); }, 5000));
  EXPECT_EQ(exit_queued_lines_, 1u);
  close_process();
  EXPECT_EQ(closed_calls_, 0);  // never from inside close()
  ASSERT_TRUE(run_until([this] { return closed_calls_ == 1; }, 5000));
}

TEST_F(ProcessLifecycle, CloseFromInsideOnExitWorks) {
  on_exit_ = [this] { close_process(); };
  ASSERT_TRUE(start_sh("exit 0"));
  ASSERT_TRUE(run_until([this] { return closed_calls_ == 1; }, 5000));
  EXPECT_EQ(exit_calls_, 1);
  EXPECT_FALSE(exit_.requested);
}

}  // namespace
}  // namespace luaload::test
