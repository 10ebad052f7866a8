// SPDX-License-Identifier: MIT
// Drives WorkerSchedulers on a real uv loop but with a ManualClock: the test moves time in steps, VU iterations end
// when the clock passes their duration, and the scheduler is serviced after each step. No Lua, no sleeping.
#pragma once

#include <gtest/gtest.h>
#include <uv.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/metrics/registry.hpp"
#include "engine/schedule/worker_scheduler.hpp"

namespace luaload::engine::schedule::testing {

inline constexpr int64_t kMs = 1'000'000;
inline constexpr int64_t kS = 1'000'000'000;

struct StartedIteration {
  uint64_t vu_id;
  IterationContext context;
  int64_t at_ns;
};

// A VU whose iteration lasts `duration_ns` of manual time, then completes; interrupt() ends it on the next step.
class ManualVu final : public VuBody {
 public:
  ManualVu(uint64_t id, int64_t duration_ns, std::vector<StartedIteration>* log, const core::ManualClock& clock,
           std::vector<ManualVu*>* live)
      : id_(id), duration_ns_(duration_ns), log_(log), clock_(clock), live_(live) {
    live_->push_back(this);
  }
  ~ManualVu() override { live_->erase(std::find(live_->begin(), live_->end(), this)); }
  void run_iteration(const IterationContext& context, Done done) override {
    done_ = std::move(done);
    ends_at_ = clock_.now_ns() + duration_ns_;
    outcome_ = IterationOutcome::Completed;
    log_->push_back({id_, context, clock_.now_ns()});
  }
  void interrupt() override {
    ends_at_ = clock_.now_ns();
    outcome_ = IterationOutcome::Interrupted;
  }
  // Completes the iteration if its time has come; true when it did.
  bool poll() {
    if (!done_ || clock_.now_ns() < ends_at_) return false;
    auto done = std::move(done_);
    done_ = nullptr;
    done(outcome_);
    return true;
  }
  bool busy() const { return static_cast<bool>(done_); }

 private:
  uint64_t id_;
  int64_t duration_ns_;
  std::vector<StartedIteration>* log_;
  const core::ManualClock& clock_;
  std::vector<ManualVu*>* live_;
  Done done_;
  int64_t ends_at_ = 0;
  IterationOutcome outcome_ = IterationOutcome::Completed;
};

class ManualVuFactory final : public VuFactory {
 public:
  ManualVuFactory(int64_t duration_ns, std::vector<StartedIteration>* log, const core::ManualClock& clock)
      : duration_ns_(duration_ns), log_(log), clock_(clock) {}
  std::unique_ptr<VuBody> create_vu(uint64_t id, std::string*) override {
    return std::make_unique<ManualVu>(id, duration_ns_, log_, clock_, &vus);
  }
  std::vector<ManualVu*> vus;  // the live ones, owned by the schedulers

 private:
  int64_t duration_ns_;
  std::vector<StartedIteration>* log_;
  const core::ManualClock& clock_;
};

class SchedulerHarness : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(uv_loop_init(&loop_), 0); }
  void TearDown() override {
    size_t closed = 0;
    for (auto& scheduler : schedulers_) scheduler->close([&closed] { ++closed; });
    // Interrupted iterations end on the next poll; the schedulers close once the last one has.
    for (int i = 0; i < 1000 && closed < schedulers_.size(); ++i) {
      poll_vus();
      uv_run(&loop_, UV_RUN_NOWAIT);
    }
    EXPECT_EQ(closed, schedulers_.size());
    schedulers_.clear();
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  // Builds `workers` schedulers sharing these scenarios the way the main thread splits them (test_run.cpp): a
  // scenario with fewer VUs than workers runs on its first max-VUs workers only.
  void start(const std::vector<ScenarioConfig>& scenarios, size_t workers, int64_t iteration_ns) {
    factory_ = std::make_unique<ManualVuFactory>(iteration_ns, &log_, clock_);
    uint64_t next_id = 1;
    std::vector<WorkerPlan> plans(workers);
    for (const auto& scenario : scenarios) {
      auto shared = std::make_shared<const ScenarioConfig>(scenario);
      std::shared_ptr<std::atomic<int64_t>> budget;
      if (scenario.executor == Executor::SharedIterations)
        budget = std::make_shared<std::atomic<int64_t>>(scenario.iterations);
      const size_t used = std::min<size_t>(workers, static_cast<size_t>(std::max<int64_t>(1, scenario_max_vus(scenario))));
      for (size_t i = 0; i < used; ++i) {
        WorkerScenarioPlan plan{shared, i, used, {}, 0, budget};
        for (int64_t k = 0; k < worker_share(scenario_max_vus(scenario), i, used); ++k) plan.vu_ids.push_back(next_id++);
        plan.initial_vus = is_arrival_rate(scenario.executor)
                               ? static_cast<size_t>(worker_share(scenario.pre_allocated_vus, i, used))
                               : plan.vu_ids.size();
        plans[i].scenarios.push_back(plan);
      }
    }
    for (auto& plan : plans) {
      schedulers_.push_back(std::make_unique<WorkerScheduler>(&loop_, *factory_, registry_, clock_));
      std::string error;
      ASSERT_TRUE(schedulers_.back()->init(plan, &error)) << error;
    }
    finished_.assign(workers, std::nullopt);
    for (size_t i = 0; i < workers; ++i) {
      schedulers_[i]->start(clock_.now_ns(), [this, i](WorkerScheduler::Finished f) { finished_[i] = f; });
    }
    uv_run(&loop_, UV_RUN_NOWAIT);
  }

  // Moves the clock by `dt`, ends due iterations, services the schedulers, runs the loop's ready callbacks.
  void step(int64_t dt) {
    clock_.advance_ns(dt);
    poll_vus();
    for (auto& scheduler : schedulers_) scheduler->service();
    uv_run(&loop_, UV_RUN_NOWAIT);
  }
  // Steps of `dt` until `total` has passed.
  void run_for(int64_t total, int64_t dt, const std::function<void()>& each = nullptr) {
    for (int64_t t = 0; t < total; t += dt) {
      step(dt);
      if (each) each();
    }
  }
  // By index: a poll may end the last iteration of a closing scheduler, which then destroys its VUs.
  void poll_vus() {
    if (!factory_) return;
    for (size_t i = 0; i < factory_->vus.size(); ++i) factory_->vus[i]->poll();
  }
  bool all_finished() const {
    for (const auto& f : finished_) {
      if (!f) return false;
    }
    return true;
  }
  size_t busy_vus() const {
    size_t n = 0;
    for (auto* vu : factory_->vus) n += vu->busy() ? 1 : 0;
    return n;
  }
  WorkerScheduler::Finished total() const {
    WorkerScheduler::Finished sum;
    for (const auto& f : finished_) {
      if (!f) continue;
      sum.iterations += f->iterations;
      sum.interrupted += f->interrupted;
      sum.dropped += f->dropped;
    }
    return sum;
  }
  // Sum of a counter's samples, over the series whose tags include `tag` (all series when empty).
  double counter(const std::string& metric, const metrics::Tag& tag = {}) {
    take();
    double sum = 0;
    for (const auto& series : taken_.series) {
      bool match = tag.first.empty() ||
                   std::find(series.tags.begin(), series.tags.end(), tag) != series.tags.end();
      if (series.metric == metric && match) sum += series.sink.counter().sum;
    }
    return sum;
  }
  std::vector<metrics::SeriesDelta> series(const std::string& metric) {
    take();
    std::vector<metrics::SeriesDelta> out;
    for (const auto& s : taken_.series) {
      if (s.metric == metric) out.push_back(s);
    }
    return out;
  }

  uv_loop_t loop_{};
  core::ManualClock clock_{1'000 * kS};
  metrics::Registry registry_;
  std::unique_ptr<ManualVuFactory> factory_;
  std::vector<std::unique_ptr<WorkerScheduler>> schedulers_;
  std::vector<std::optional<WorkerScheduler::Finished>> finished_;
  std::vector<StartedIteration> log_;

 private:
  void take() {
    if (taken_once_) return;
    taken_ = registry_.take_delta();
    taken_once_ = true;
  }
  metrics::Delta taken_;
  bool taken_once_ = false;
};

}  // namespace luaload::engine::schedule::testing
