// SPDX-License-Identifier: MIT
#include "support/server_thread.hpp"

#include <gtest/gtest.h>

namespace luaload::test {
namespace {

// Runs on the server's loop: the only place its handles may be closed.
void on_stop_cb(uv_async_t* async) {
  auto* server = static_cast<MisbehavingServer*>(async->data);
  server->close([] {});
  uv_close(reinterpret_cast<uv_handle_t*>(async), nullptr);
}

}  // namespace

ServerThread::ServerThread(std::vector<Reply> replies) {
  EXPECT_EQ(uv_loop_init(&loop_), 0);
  server_ = std::make_unique<MisbehavingServer>(&loop_, std::move(replies));
  uv_async_init(&loop_, &stop_, on_stop_cb);
  stop_.data = server_.get();
}

ServerThread::~ServerThread() {
  stop();
  EXPECT_EQ(uv_loop_close(&loop_), 0);
}

void ServerThread::start() {
  thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
}

void ServerThread::stop() {
  if (stopped_) return;
  stopped_ = true;
  uv_async_send(&stop_);
  if (thread_.joinable()) {
    thread_.join();
  } else {
    // Never started: run the loop here just long enough to deliver the stop and the close callbacks.
    uv_run(&loop_, UV_RUN_DEFAULT);
  }
}

}  // namespace luaload::test
