// SPDX-License-Identifier: MIT
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "engine/process/process.hpp"
#include "support/loop_fixture.hpp"

namespace luaload::test {

// A loop with one child process under test, its callbacks counted. TearDown closes the process (if the test did
// not) and checks that the loop closes with nothing left open.
class ProcessFixture : public LoopFixture {
 protected:
  using Process = engine::process::Process;

  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  void SetUp() override {
    LoopFixture::SetUp();
    uv_timer_init(&loop_, &tick_);
  }

  void TearDown() override {
    if (process_ != nullptr && !close_called_) close_process();
    run_until([this] { return process_ == nullptr; }, 10000);
    EXPECT_EQ(process_, nullptr) << "the process did not close";
    uv_close(reinterpret_cast<uv_handle_t*>(&tick_), nullptr);
    LoopFixture::TearDown();
  }

  // Starts `/bin/sh -c script`; false (with the error in start_error_) when it could not start.
  bool start_sh(const std::string& script) {
    engine::process::Command command;
    command.file = "/bin/sh";
    command.args = {"-c", script};
    return start(command);
  }

  bool start(const engine::process::Command& command) {
    Process::Callbacks callbacks;
    callbacks.on_lines = [this] {
      ++lines_calls_;
      if (on_lines_) on_lines_();
    };
    callbacks.on_writable = [this] { ++writable_calls_; };
    callbacks.on_exit = [this](const engine::process::Exit& exit) {
      ++exit_calls_;
      exit_ = exit;
      exit_queued_lines_ = process_->queued_lines();
      if (on_exit_) on_exit_();
    };
    process_ = Process::start(&loop_, command, limits_, std::move(callbacks), &start_error_);
    if (process_ != nullptr) pid_ = process_->pid();
    return process_ != nullptr;
  }

  void close_process() {
    close_called_ = true;
    process_->close([this] {
      ++closed_calls_;
      process_.reset();
    });
  }

  // Runs the loop until pred() holds or timeout_ms passed; returns pred().
  bool run_until(const std::function<bool()>& pred, int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    uv_timer_start(
        &tick_, [](uv_timer_t*) {}, 5, 5);  // RUN_ONCE returns at least every 5 ms
    while (!pred() && std::chrono::steady_clock::now() < deadline) uv_run(&loop_, UV_RUN_ONCE);
    uv_timer_stop(&tick_);
    return pred();
  }

  void run_for(int ms) {
    run_until([] { return false; }, ms);
  }

  std::vector<std::string> pop_all() {
    std::vector<std::string> result;
    while (auto line = process_->pop_line()) result.push_back(line->text);
    return result;
  }

  bool exited() const { return exit_calls_ > 0; }

  // True when no process with this pid exists (a zombie counts as existing).
  static bool gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

  // True when the process is gone or a zombie (dead, waiting for a parent that is not us to reap it).
  static bool dead(pid_t pid) {
    if (gone(pid)) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const size_t paren = text.rfind(')');
    return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z';
  }

  engine::process::Limits limits_;
  std::unique_ptr<Process> process_;
  pid_t pid_ = -1;
  int start_error_ = 0;
  bool close_called_ = false;
  int lines_calls_ = 0, writable_calls_ = 0, exit_calls_ = 0, closed_calls_ = 0;
  size_t exit_queued_lines_ = 0;
  engine::process::Exit exit_;
  std::function<void()> on_lines_;
  std::function<void()> on_exit_;
  uv_timer_t tick_{};
};

}  // namespace luaload::test
