// SPDX-License-Identifier: MIT
#include "engine/schedule/worker_scheduler.hpp"

#include <gtest/gtest.h>
#include <uv.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

#include "engine/metrics/builtin.hpp"

namespace luaload::engine::schedule {
namespace {

constexpr int64_t kMs = 1'000'000;

// A VU whose iteration takes a fixed time on a libuv timer and then ends with a chosen outcome: the scheduler is
// tested without Lua, through the same VuBody contract the Lua runtime implements.
class TimerVu final : public VuBody {
 public:
  TimerVu(uv_loop_t* loop, uint64_t duration_ms, IterationOutcome outcome)
      : duration_ms_(duration_ms), outcome_(outcome) {
    timer_ = new uv_timer_t;
    uv_timer_init(loop, timer_);
    timer_->data = this;
  }
  ~TimerVu() override {
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
  }
  void run_iteration(const IterationContext&, Done done) override {
    done_ = std::move(done);
    pending_ = outcome_;
    uv_timer_start(timer_, on_timer_cb, duration_ms_, 0);
  }
  void interrupt() override {
    pending_ = IterationOutcome::Interrupted;
    uv_timer_start(timer_, on_timer_cb, 0, 0);
  }
  std::string abort_message() const override { return "stop everything"; }

 private:
  static void on_timer_cb(uv_timer_t* t) {
    auto* self = static_cast<TimerVu*>(t->data);
    auto done = std::move(self->done_);
    done(self->pending_);
  }
  uv_timer_t* timer_;
  uint64_t duration_ms_;
  IterationOutcome outcome_;
  IterationOutcome pending_ = IterationOutcome::Completed;
  Done done_;
};

class TimerVuFactory final : public VuFactory {
 public:
  TimerVuFactory(uv_loop_t* loop, uint64_t ms, IterationOutcome outcome) : loop_(loop), ms_(ms), outcome_(outcome) {}
  std::unique_ptr<VuBody> create_vu(uint64_t, std::string*) override {
    return std::make_unique<TimerVu>(loop_, ms_, outcome_);
  }

 private:
  uv_loop_t* loop_;
  uint64_t ms_;
  IterationOutcome outcome_;
};

class WorkerSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(uv_loop_init(&loop_), 0); }
  void TearDown() override { EXPECT_EQ(uv_loop_close(&loop_), 0); }

  // Runs a plan to its end, closes the scheduler, and returns what it reported.
  WorkerScheduler::Finished run(uint64_t iteration_ms, IterationOutcome outcome, WorkerPlan plan, size_t vus,
                                std::function<void(WorkerScheduler&)> after_start = nullptr) {
    TimerVuFactory factory(&loop_, iteration_ms, outcome);
    auto scheduler = std::make_unique<WorkerScheduler>(&loop_, factory, registry_, clock_);
    std::vector<uint64_t> ids;
    for (size_t i = 1; i <= vus; ++i) ids.push_back(i);
    std::string error;
    EXPECT_TRUE(scheduler->init_vus(ids, &error)) << error;
    int finished_calls = 0;
    WorkerScheduler::Finished result;
    start_ns_ = clock_.now_ns();
    scheduler->start(plan, [&](WorkerScheduler::Finished f) {
      ++finished_calls;
      result = f;
      finished_ns_ = clock_.now_ns();
      scheduler->close([&] { scheduler.reset(); });
    }, [&](std::string message) { abort_messages_.push_back(message); });
    if (after_start) after_start(*scheduler);
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(finished_calls, 1);
    EXPECT_EQ(scheduler, nullptr);
    return result;
  }

  uint64_t recorded_iterations() {
    uint64_t total = 0;
    for (const auto& series : registry_.take_delta().series) {
      if (series.metric == "iterations") total += static_cast<uint64_t>(series.sink.counter().sum);
    }
    return total;
  }

  uv_loop_t loop_{};
  core::MonotonicClock clock_;
  metrics::Registry registry_;
  int64_t start_ns_ = 0;
  int64_t finished_ns_ = 0;
  std::vector<std::string> abort_messages_;
};

TEST_F(WorkerSchedulerTest, ConstantVusLoopIterationsUntilTheDurationEnds) {
  WorkerPlan plan;
  plan.vus = 2;
  plan.end_ns = clock_.now_ns() + 200 * kMs;
  plan.graceful_stop_ns = 1'000 * kMs;
  auto result = run(10, IterationOutcome::Completed, plan, 2);
  // 2 VUs x 200 ms / 10 ms = 40, less timer slack on a busy machine.
  EXPECT_GE(result.iterations, 20u);
  EXPECT_LE(result.iterations, 42u);
  EXPECT_EQ(result.interrupted, 0u);
  EXPECT_EQ(recorded_iterations(), result.iterations);
}

TEST_F(WorkerSchedulerTest, SharedIterationsRunExactlyTheBudget) {
  WorkerPlan plan;
  plan.vus = 3;
  plan.end_ns = clock_.now_ns() + 10'000 * kMs;
  plan.iterations_left = std::make_shared<std::atomic<int64_t>>(25);
  auto result = run(1, IterationOutcome::Completed, plan, 3);
  EXPECT_EQ(result.iterations, 25u);
  EXPECT_EQ(recorded_iterations(), 25u);
}

TEST_F(WorkerSchedulerTest, FailedIterationsStillCountAndTheVuGoesOn) {
  WorkerPlan plan;
  plan.vus = 1;
  plan.end_ns = clock_.now_ns() + 10'000 * kMs;
  plan.iterations_left = std::make_shared<std::atomic<int64_t>>(5);
  auto result = run(1, IterationOutcome::Failed, plan, 1);
  EXPECT_EQ(result.iterations, 5u);
}

TEST_F(WorkerSchedulerTest, IterationsLongerThanTheGracefulStopAreInterrupted) {
  WorkerPlan plan;
  plan.vus = 2;
  plan.end_ns = clock_.now_ns() + 50 * kMs;
  plan.graceful_stop_ns = 100 * kMs;
  auto result = run(5'000, IterationOutcome::Completed, plan, 2);
  EXPECT_EQ(result.iterations, 0u);
  EXPECT_EQ(result.interrupted, 2u);
  EXPECT_GE(finished_ns_ - start_ns_, 150 * kMs);
  EXPECT_LT(finished_ns_ - start_ns_, 1'000 * kMs);
}

TEST_F(WorkerSchedulerTest, IterationsInFlightFinishWithinTheGracefulStop) {
  WorkerPlan plan;
  plan.vus = 1;
  plan.end_ns = clock_.now_ns() + 20 * kMs;
  plan.graceful_stop_ns = 1'000 * kMs;
  auto result = run(100, IterationOutcome::Completed, plan, 1);
  EXPECT_EQ(result.iterations, 1u);
  EXPECT_EQ(result.interrupted, 0u);
}

TEST_F(WorkerSchedulerTest, StopWithAPastDeadlineInterruptsAtOnce) {
  WorkerPlan plan;
  plan.vus = 1;
  plan.end_ns = clock_.now_ns() + 10'000 * kMs;
  auto result = run(5'000, IterationOutcome::Completed, plan, 1, [&](WorkerScheduler& s) { s.stop(0); });
  EXPECT_EQ(result.interrupted, 1u);
  EXPECT_LT(finished_ns_ - start_ns_, 1'000 * kMs);
}

TEST_F(WorkerSchedulerTest, AnAbortingVuStopsTheWorkerAndReportsItsMessage) {
  WorkerPlan plan;
  plan.vus = 1;
  plan.end_ns = clock_.now_ns() + 10'000 * kMs;
  auto result = run(1, IterationOutcome::Aborted, plan, 1);
  EXPECT_EQ(result.abort_message, "stop everything");
  ASSERT_EQ(abort_messages_.size(), 1u);
  EXPECT_EQ(abort_messages_[0], "stop everything");
  EXPECT_EQ(result.iterations, 1u);
}

TEST_F(WorkerSchedulerTest, ClosingWithAnIterationInFlightInterruptsItAndClosesCleanly) {
  TimerVuFactory factory(&loop_, 60'000, IterationOutcome::Completed);
  auto scheduler = std::make_unique<WorkerScheduler>(&loop_, factory, registry_, clock_);
  std::string error;
  ASSERT_TRUE(scheduler->init_vus({1}, &error));
  WorkerPlan plan;
  plan.vus = 1;
  plan.end_ns = clock_.now_ns() + 60'000 * kMs;
  int finished_calls = 0;
  scheduler->start(plan, [&](WorkerScheduler::Finished) { ++finished_calls; });
  int closed_calls = 0;
  scheduler->close([&] { ++closed_calls; });
  int64_t t0 = clock_.now_ns();
  uv_run(&loop_, UV_RUN_DEFAULT);
  EXPECT_EQ(closed_calls, 1);
  EXPECT_EQ(finished_calls, 0);
  EXPECT_LT(clock_.now_ns() - t0, 1'000 * kMs);
  scheduler.reset();
}

}  // namespace
}  // namespace luaload::engine::schedule
