// SPDX-License-Identifier: MIT
#include "engine/loop/worker.hpp"

#include <cstdio>

#include "engine/core/assert.hpp"

namespace luaload::engine::loop {

Worker::Worker(std::string name) : name_(std::move(name)) {
  LUALOAD_CHECK(uv_loop_init(&loop_) == 0, "uv_loop_init failed");
  // The async handle is initialised before the thread exists, so post() works from the moment we are constructed.
  mailbox_ = std::make_unique<Mailbox>(&loop_);
}

Worker::~Worker() {
  if (started_) {
    request_stop();
    join();
  } else {
    // Never started: close the mailbox on this thread, the only one that ever touched the loop.
    mailbox_->close();
    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }
}

void Worker::start(std::function<void()> on_start, std::function<void()> on_stop) {
  LUALOAD_CHECK(!thread_.joinable(), "Worker started twice");
  started_ = true;
  on_start_ = std::move(on_start);
  on_stop_ = std::move(on_stop);
  thread_ = std::thread([this] { run(); });
}

bool Worker::post(std::function<void()> task) { return mailbox_->post(std::move(task)); }

void Worker::request_stop() {
  if (stop_requested_.exchange(true)) return;
  mailbox_->post([this] {
    if (on_stop_) on_stop_();
    mailbox_->close();
  });
}

bool Worker::join() {
  if (thread_.joinable()) thread_.join();
  return closed_cleanly_;
}

void Worker::run() {
  thread_id_ = std::this_thread::get_id();
  if (on_start_) on_start_();
  uv_run(&loop_, UV_RUN_DEFAULT);
  int rc = uv_loop_close(&loop_);
  if (rc != 0) {
    // A handle was left open: a bug in whoever owns it. Report it rather than hang or crash at exit.
    std::fprintf(stderr, "luaload: worker %s ended with open handles\n", name_.c_str());
  }
  closed_cleanly_ = rc == 0;
}

}  // namespace luaload::engine::loop
