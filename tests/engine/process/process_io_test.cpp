// SPDX-License-Identifier: MIT
// Lines in and out of a child: framing, backpressure both ways, stderr's tail, environment and working directory.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "process_fixture.hpp"

namespace luaload::test {
namespace {

using engine::process::WriteResult;

class ProcessIo : public ProcessFixture {};

TEST_F(ProcessIo, LinesWrittenComeBackAsLines) {
  ASSERT_TRUE(start_sh("while read -r line; do echo \"got $line\"; done"));
  EXPECT_EQ(process_->write_line("one"), WriteResult::Queued);
  EXPECT_EQ(process_->write_line("two"), WriteResult::Queued);
  ASSERT_TRUE(run_until([this] { return process_->queued_lines() == 2; }, 5000));
  EXPECT_GE(lines_calls_, 1);
  EXPECT_EQ(pop_all(), (std::vector<std::string>{"got one", "got two"}));
  EXPECT_EQ(process_->queued_bytes(), 0u);
}

TEST_F(ProcessIo, AMessageWithANewlineIsRefused) {
  ASSERT_TRUE(start_sh("cat > /dev/null"));
  EXPECT_EQ(process_->write_line("a\nb"), WriteResult::Invalid);
}

TEST_F(ProcessIo, EveryLineIsQueuedBeforeTheExitIsReported) {
  ASSERT_TRUE(start_sh("printf 'a\\r\\n\\nb\\nc'; exit 0"));
  ASSERT_TRUE(run_until([this] { return exited(); }, 5000));
  EXPECT_EQ(exit_queued_lines_, 3u);
  EXPECT_EQ(pop_all(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(process_->stdout_ended());
}

TEST_F(ProcessIo, AnOverlongLineIsReportedWithItsStartAndSkipped) {
  limits_.max_line_bytes = 1000;
  ASSERT_TRUE(start_sh("head -c 5000 /dev/zero | tr '\\0' x; echo; echo ok"));
  ASSERT_TRUE(run_until([this] { return exited(); }, 5000));
  auto first = process_->pop_line();
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->overlong);
  EXPECT_EQ(first->text, std::string(engine::process::LineSplitter::kOverlongPrefixBytes, 'x'));
  auto second = process_->pop_line();
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->overlong);
  EXPECT_EQ(second->text, "ok");
}

TEST_F(ProcessIo, AReaderThatFallsBehindStopsTheChildInsteadOfGrowingTheQueue) {
  limits_.max_queued_bytes = 64 * 1024;
  ASSERT_TRUE(start_sh("yes 0123456789 | head -n 200000; echo done"));
  size_t most = 0;
  on_lines_ = [&] { most = std::max(most, process_->queued_bytes()); };
  run_for(300);
  EXPECT_FALSE(exited()) << "the child should be blocked on its full stdout";
  EXPECT_GE(process_->queued_bytes(), limits_.max_queued_bytes);
  // Over the limit by at most one read (64 KiB); the 2 MB it has to say stay in the child.
  EXPECT_LE(most, limits_.max_queued_bytes + 64 * 1024 + 11);
  size_t lines = 0;
  bool done = false;
  on_lines_ = [&] {
    while (auto line = process_->pop_line()) {
      done = line->text == "done";
      lines += done ? 0 : 1;
    }
  };
  on_lines_();
  ASSERT_TRUE(run_until([this] { return exited(); }, 10000));
  on_lines_();
  EXPECT_EQ(lines, 200000u);
  EXPECT_TRUE(done);
  EXPECT_EQ(exit_.status, 0);
}

TEST_F(ProcessIo, AFullWriteQueueRefusesUntilTheChildReadsAgain) {
  limits_.max_write_bytes = 64 * 1024;
  ASSERT_TRUE(start_sh("sleep 0.5; cat > /dev/null"));
  const std::string message(1024, 'm');
  auto fill = [&] {
    int queued = 0;
    while (process_->write_line(message) == WriteResult::Queued) ++queued;
    return queued;
  };
  // The first 64 KiB fit in the pipe's kernel buffer: written as soon as the loop runs.
  EXPECT_GE(fill(), 60);
  ASSERT_TRUE(run_until([this] { return writable_calls_ == 1; }, 5000));
  // The next ones wait in our queue until the child reads.
  EXPECT_GT(fill(), 0);
  EXPECT_EQ(process_->write_line(message), WriteResult::Full);
  const auto refused = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until([this] { return writable_calls_ == 2; }, 5000));
  EXPECT_GT(std::chrono::steady_clock::now() - refused, std::chrono::milliseconds(100));
  EXPECT_LE(process_->unwritten_bytes(), limits_.max_write_bytes / 2);
  EXPECT_EQ(process_->write_line(message), WriteResult::Queued);
}

TEST_F(ProcessIo, WritingToAChildThatClosedItsStdinReportsClosed) {
  ASSERT_TRUE(start_sh("exec 0<&-; echo closed; exec sleep 30"));
  ASSERT_TRUE(run_until([this] { return process_->queued_lines() == 1; }, 5000));
  WriteResult result = WriteResult::Queued;
  ASSERT_TRUE(run_until([&] { return (result = process_->write_line("x")) == WriteResult::Closed; }, 5000));
  EXPECT_FALSE(exited());
}

TEST_F(ProcessIo, TheEndOfStderrIsKept) {
  limits_.stderr_tail_bytes = 1024;
  ASSERT_TRUE(start_sh("head -c 100000 /dev/zero | tr '\\0' e >&2; echo 'fatal: the end' >&2; exit 1"));
  ASSERT_TRUE(run_until([this] { return exited(); }, 5000));
  run_for(20);  // stderr is not waited for; it has arrived by now
  const std::string tail = process_->stderr_tail();
  EXPECT_EQ(tail.size(), 1024u);
  EXPECT_EQ(tail.substr(tail.size() - 15), "fatal: the end\n");
}

TEST_F(ProcessIo, TheEnvironmentAndWorkingDirectoryAreTheCommands) {
  engine::process::Command command;
  command.file = "sh";  // found in PATH
  command.args = {"-c", "echo \"$LUALOAD_TEST_VALUE\"; pwd"};
  command.env = {{"LUALOAD_TEST_VALUE", "from the command"}};
  command.cwd = "/tmp";
  ASSERT_TRUE(start(command));
  ASSERT_TRUE(run_until([this] { return exited(); }, 5000));
  EXPECT_EQ(pop_all(), (std::vector<std::string>{"from the command", "/tmp"}));
}

TEST_F(ProcessIo, WithoutInheritanceTheEnvironmentIsTheCommandsAlone) {
  ::setenv("LUALOAD_TEST_INHERITED", "yes", 1);
  engine::process::Command command;
  command.file = "/bin/sh";
  command.args = {"-c", "echo \"[$LUALOAD_TEST_INHERITED][$ONLY]\""};
  command.env = {{"ONLY", "this"}};
  command.inherit_env = false;
  ASSERT_TRUE(start(command));
  ASSERT_TRUE(run_until([this] { return exited(); }, 5000));
  EXPECT_EQ(pop_all(), (std::vector<std::string>{"[][this]"}));
}

TEST_F(ProcessIo, LinesArrivingAfterCloseAreDropped) {
  ASSERT_TRUE(start_sh("echo first; cat > /dev/null; echo after"));
  ASSERT_TRUE(run_until([this] { return process_->queued_lines() == 1; }, 5000));
  const int calls = lines_calls_;
  close_process();
  EXPECT_EQ(process_->queued_lines(), 0u);
  ASSERT_TRUE(run_until([this] { return closed_calls_ == 1; }, 5000));
  EXPECT_EQ(lines_calls_, calls);
  EXPECT_EQ(exit_calls_, 1);
}

}  // namespace
}  // namespace luaload::test
