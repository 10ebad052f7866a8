// SPDX-License-Identifier: MIT
#include "engine/loop/worker.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace luaload::engine::loop {
namespace {

TEST(WorkerTest, PostedTasksRunOnTheWorkerThreadInOrder) {
  Worker worker("test");
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<int> order;
  bool on_thread = true;
  worker.start(nullptr, nullptr);
  for (int i = 0; i < 100; ++i) {
    worker.post([&, i] {
      std::lock_guard lock(mutex);
      on_thread = on_thread && worker.on_loop_thread();
      order.push_back(i);
      cv.notify_one();
    });
  }
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return order.size() == 100; }));
  }
  worker.request_stop();
  EXPECT_TRUE(worker.join());
  EXPECT_TRUE(on_thread);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(WorkerTest, StopRunsTheStopHookOnTheLoopAndClosesTheLoopCleanly) {
  Worker worker("test");
  std::atomic<int> started{0};
  std::atomic<int> stopped{0};
  uv_timer_t* timer = new uv_timer_t;
  worker.start(
      [&] {
        ++started;
        // A handle the owner opens on the loop: the stop hook must close it, or the loop could not end.
        uv_timer_init(worker.loop(), timer);
        uv_timer_start(timer, [](uv_timer_t*) {}, 60'000, 0);
      },
      [&] {
        ++stopped;
        uv_close(reinterpret_cast<uv_handle_t*>(timer), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
      });
  worker.request_stop();
  worker.request_stop();
  EXPECT_TRUE(worker.join());
  EXPECT_EQ(started.load(), 1);
  EXPECT_EQ(stopped.load(), 1);
}

TEST(WorkerTest, PostAfterStopIsRefused) {
  Worker worker("test");
  worker.start(nullptr, nullptr);
  worker.request_stop();
  EXPECT_TRUE(worker.join());
  EXPECT_FALSE(worker.post([] {}));
}

TEST(MailboxTest, TasksPostedFromManyThreadsAllRunOnTheLoop) {
  uv_loop_t loop;
  ASSERT_EQ(uv_loop_init(&loop), 0);
  Mailbox mailbox(&loop);
  int ran = 0;  // touched only on the loop thread (this one)
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < 250; ++i) mailbox.post([&] { ++ran; });
    });
  }
  for (auto& p : posters) p.join();
  mailbox.post([&] { mailbox.close(); });
  uv_run(&loop, UV_RUN_DEFAULT);
  EXPECT_EQ(ran, 1000);
  EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace luaload::engine::loop
