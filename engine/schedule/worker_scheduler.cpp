// SPDX-License-Identifier: MIT
#include "engine/schedule/worker_scheduler.hpp"

#include <algorithm>

#include "engine/core/assert.hpp"

namespace luaload::engine::schedule {

WorkerScheduler::WorkerScheduler(uv_loop_t* loop, VuFactory& factory, metrics::Registry& registry,
                                 const core::Clock& clock)
    : loop_(loop), factory_(factory), registry_(registry), clock_(clock) {
  timer_ = new uv_timer_t;
  uv_timer_init(loop_, timer_);
  timer_->data = this;
}

WorkerScheduler::~WorkerScheduler() { LUALOAD_CHECK(timer_ == nullptr, "WorkerScheduler destroyed before close()"); }

bool WorkerScheduler::init(WorkerPlan plan, std::string* error) {
  for (auto& scenario : plan.scenarios) {
    auto run = std::make_unique<ScenarioRun>(
        std::move(scenario), factory_, registry_, clock_,
        [this](ScenarioRun& r, ScenarioRun::VuSlot& slot, IterationOutcome outcome) { on_iteration_done(r, slot, outcome); });
    runs_.push_back(std::move(run));
    if (!runs_.back()->init_vus(error)) return false;
  }
  return true;
}

size_t WorkerScheduler::vu_count() const {
  size_t total = 0;
  for (const auto& run : runs_) total += run->allocated_vus();
  return total;
}

size_t WorkerScheduler::in_flight() const {
  size_t total = 0;
  for (const auto& run : runs_) total += run->in_flight();
  return total;
}

void WorkerScheduler::start(int64_t test_start_ns, OnFinished on_finished, OnAbort on_abort) {
  LUALOAD_CHECK(!started_, "WorkerScheduler started twice");
  started_ = true;
  on_finished_ = std::move(on_finished);
  on_abort_ = std::move(on_abort);
  for (auto& run : runs_) run->start(test_start_ns);
  // Iterations start from the timer, never from inside start(): the first turn comes right away.
  arm_timer(clock_.now_ns());
}

void WorkerScheduler::service() {
  if (!started_ || finished_ || closing_ || in_service_) return;
  in_service_ = true;
  int64_t now = clock_.now_ns();
  int64_t wake = kNever;
  for (auto& run : runs_) wake = std::min(wake, run->service(now));
  in_service_ = false;
  if (wake != kNever) arm_timer(wake);
  maybe_finish();
}

void WorkerScheduler::stop(int64_t graceful_deadline_ns) {
  if (!started_ || finished_) return;
  for (auto& run : runs_) run->stop(graceful_deadline_ns);
  if (graceful_deadline_ns > clock_.now_ns()) arm_timer(graceful_deadline_ns);
  maybe_finish();
}

WorkerStatus WorkerScheduler::status() const {
  WorkerStatus status;
  for (const auto& run : runs_) {
    status.active_vus += run->in_flight();
    status.active_vus_by_scenario[run->config().name] += run->in_flight();
    status.allocated_vus += run->allocated_vus();
    status.iterations_done += run->stats().iterations;
    status.dropped += run->stats().dropped;
    status.interrupted += run->stats().interrupted;
  }
  return status;
}

void WorkerScheduler::close(std::function<void()> on_closed) {
  // A run cut short (second Ctrl-C, setup timeout) may still have iterations in flight: interrupt them and close
  // once the last one has reported back, since a VU's completion must not find us gone.
  on_closed_ = std::move(on_closed);
  closing_ = true;
  for (auto& run : runs_) {
    run->stop(clock_.now_ns());
  }
  close_if_idle();
}

void WorkerScheduler::close_if_idle() {
  if (!closing_ || in_flight() > 0 || timer_ == nullptr) return;
  for (auto& run : runs_) run->release_vus();
  auto* timer = timer_;
  timer_ = nullptr;
  timer->data = new std::function<void()>(std::move(on_closed_));
  uv_close(reinterpret_cast<uv_handle_t*>(timer), [](uv_handle_t* handle) {
    auto* done = static_cast<std::function<void()>*>(handle->data);
    delete reinterpret_cast<uv_timer_t*>(handle);
    if (*done) (*done)();
    delete done;
  });
}

void WorkerScheduler::on_iteration_done(ScenarioRun& run, ScenarioRun::VuSlot& slot, IterationOutcome outcome) {
  if (closing_) {
    close_if_idle();
    return;
  }
  if (outcome == IterationOutcome::Aborted && abort_message_.empty()) {
    abort_message_ = run.abort_message(slot);
    if (abort_message_.empty()) abort_message_ = "test aborted by the script";
    if (on_abort_) on_abort_(abort_message_);
    stop(clock_.now_ns());
    return;
  }
  maybe_finish();
}

void WorkerScheduler::arm_timer(int64_t at_ns) {
  int64_t delay_ns = std::max<int64_t>(0, at_ns - clock_.now_ns());
  // Round up so the timer never fires a hair early and finds the deadline not yet reached.
  uint64_t delay_ms = static_cast<uint64_t>((delay_ns + 999'999) / 1'000'000);
  uv_timer_start(timer_, on_timer_cb, delay_ms, 0);
}

void WorkerScheduler::on_timer_cb(uv_timer_t* timer) { static_cast<WorkerScheduler*>(timer->data)->service(); }

void WorkerScheduler::maybe_finish() {
  if (finished_ || !started_) return;
  for (const auto& run : runs_) {
    if (!run->finished()) return;
  }
  finished_ = true;
  uv_timer_stop(timer_);
  Finished result;
  for (const auto& run : runs_) {
    result.iterations += run->stats().iterations;
    result.interrupted += run->stats().interrupted;
    result.dropped += run->stats().dropped;
  }
  result.abort_message = abort_message_;
  if (on_finished_) on_finished_(result);
}

}  // namespace luaload::engine::schedule
