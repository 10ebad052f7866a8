// SPDX-License-Identifier: MIT
#include "engine/net/deferred_queue.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "support/loop_fixture.hpp"

namespace luaload::engine::net {
namespace {

class DeferredQueueTest : public test::LoopFixture {
 protected:
  void close_and_wait(DeferredQueue& queue) {
    bool closed = false;
    queue.close([&] { closed = true; });
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_TRUE(closed);
  }
};

TEST_F(DeferredQueueTest, PostedTaskRunsOnALaterLoopTurnNotInsidePost) {
  DeferredQueue queue(&loop_);
  int runs = 0;
  queue.post([&] { ++runs; });
  EXPECT_EQ(runs, 0);
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(runs, 1);
  bool closed = false;
  queue.close([&] { closed = true; });
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_TRUE(closed);
  EXPECT_EQ(runs, 1);
}

TEST_F(DeferredQueueTest, TasksRunInPostOrder) {
  DeferredQueue queue(&loop_);
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) queue.post([&order, i] { order.push_back(i); });
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  close_and_wait(queue);
}

TEST_F(DeferredQueueTest, TaskPostedFromATaskRunsOnTheNextTurn) {
  DeferredQueue queue(&loop_);
  int inner = 0;
  queue.post([&] { queue.post([&] { ++inner; }); });
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(inner, 0);
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(inner, 1);
  close_and_wait(queue);
}

TEST_F(DeferredQueueTest, EmptyQueueDoesNotKeepTheLoopAlive) {
  DeferredQueue queue(&loop_);
  queue.post([] {});
  uv_run(&loop_, UV_RUN_NOWAIT);
  EXPECT_EQ(uv_run(&loop_, UV_RUN_NOWAIT), 0);
  close_and_wait(queue);
}

TEST_F(DeferredQueueTest, CloseRunsTasksStillQueued) {
  DeferredQueue queue(&loop_);
  int runs = 0;
  queue.post([&] { ++runs; });
  queue.close(nullptr);
  EXPECT_EQ(runs, 1);
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_TRUE(queue.closed());
}

}  // namespace
}  // namespace luaload::engine::net
