// SPDX-License-Identifier: MIT
#include "engine/schedule/worker_scheduler.hpp"

#include <algorithm>

#include "engine/core/assert.hpp"
#include "engine/metrics/builtin.hpp"

namespace luaload::engine::schedule {

struct WorkerScheduler::VuSlot {
  uint64_t id = 0;
  std::unique_ptr<VuBody> body;
  bool busy = false;
  bool active = false;  // part of the running plan
  uint64_t iterations = 0;
  int64_t iteration_start_ns = 0;
};

WorkerScheduler::WorkerScheduler(uv_loop_t* loop, VuFactory& factory, metrics::Registry& registry,
                                 const core::Clock& clock)
    : loop_(loop), factory_(factory), registry_(registry), clock_(clock) {
  timer_ = new uv_timer_t;
  uv_timer_init(loop_, timer_);
  timer_->data = this;
}

WorkerScheduler::~WorkerScheduler() { LUALOAD_CHECK(timer_ == nullptr, "WorkerScheduler destroyed before close()"); }

bool WorkerScheduler::init_vus(const std::vector<uint64_t>& vu_ids, std::string* error) {
  for (uint64_t id : vu_ids) {
    auto body = factory_.create_vu(id, error);
    if (!body) return false;
    auto slot = std::make_unique<VuSlot>();
    slot->id = id;
    slot->body = std::move(body);
    vus_.push_back(std::move(slot));
  }
  return true;
}

void WorkerScheduler::start(const WorkerPlan& plan, OnFinished on_finished, OnAbort on_abort) {
  LUALOAD_CHECK(!started_, "WorkerScheduler started twice");
  started_ = true;
  plan_ = plan;
  on_finished_ = std::move(on_finished);
  on_abort_ = std::move(on_abort);
  scenario_tags_ = registry_.intern({{"scenario", plan_.scenario}});
  size_t count = std::min(plan_.vus, vus_.size());
  for (size_t i = 0; i < count; ++i) vus_[i]->active = true;
  arm_timer(plan_.end_ns);
  for (size_t i = 0; i < count; ++i) {
    if (!may_start_iteration()) break;
    start_iteration(*vus_[i]);
  }
  // Nothing to run (zero VUs here, or the budget was already spent): finish on a later turn, as promised.
  if (in_flight_ == 0) arm_timer(clock_.now_ns());
}

void WorkerScheduler::stop(int64_t graceful_deadline_ns) {
  if (!started_ || finished_) return;
  if (!stopping_ || graceful_deadline_ns < graceful_deadline_ns_) graceful_deadline_ns_ = graceful_deadline_ns;
  stopping_ = true;
  if (graceful_deadline_ns_ <= clock_.now_ns()) {
    interrupt_all();
  } else {
    arm_timer(graceful_deadline_ns_);
  }
  maybe_finish();
}

WorkerStatus WorkerScheduler::status() const {
  return WorkerStatus{in_flight_, result_.iterations};
}

void WorkerScheduler::close(std::function<void()> on_closed) {
  // A run cut short (second Ctrl-C, setup timeout) may still have iterations in flight: interrupt them and close
  // once the last one has reported back, since a VU's completion must not find us gone.
  stopping_ = true;
  on_closed_ = std::move(on_closed);
  closing_ = true;
  interrupt_all();
  close_if_idle();
}

void WorkerScheduler::close_if_idle() {
  if (!closing_ || in_flight_ > 0 || timer_ == nullptr) return;
  vus_.clear();
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

void WorkerScheduler::start_iteration(VuSlot& slot) {
  slot.busy = true;
  slot.iteration_start_ns = clock_.now_ns();
  ++in_flight_;
  IterationContext context;
  context.iteration_in_vu = slot.iterations++;
  context.iteration_in_scenario = iterations_started_++;
  context.scenario = plan_.scenario;
  context.scheduled_start_ns = slot.iteration_start_ns;
  slot.body->run_iteration(context, [this, &slot](IterationOutcome outcome) { on_iteration_done(slot, outcome); });
}

void WorkerScheduler::on_iteration_done(VuSlot& slot, IterationOutcome outcome) {
  LUALOAD_ASSERT(slot.busy && in_flight_ > 0);
  slot.busy = false;
  --in_flight_;
  if (closing_) {
    close_if_idle();
    return;
  }
  if (outcome == IterationOutcome::Interrupted) {
    ++result_.interrupted;
  } else {
    // Failed iterations count, like k6: the VU ran the whole function, it just did not end well.
    double ms = static_cast<double>(clock_.now_ns() - slot.iteration_start_ns) / 1e6;
    registry_.add(metrics::builtin::kIterations, scenario_tags_, 1);
    registry_.add(metrics::builtin::kIterationDuration, scenario_tags_, ms);
    ++result_.iterations;
  }
  if (outcome == IterationOutcome::Aborted && result_.abort_message.empty()) {
    result_.abort_message = slot.body->abort_message();
    if (result_.abort_message.empty()) result_.abort_message = "test aborted by the script";
    if (on_abort_) on_abort_(result_.abort_message);
    stop(clock_.now_ns());
    return;
  }
  if (slot.active && may_start_iteration()) {
    start_iteration(slot);
    return;
  }
  maybe_finish();
}

bool WorkerScheduler::may_start_iteration() {
  if (stopping_) return false;
  if (clock_.now_ns() >= plan_.end_ns) return false;
  if (plan_.iterations_left) {
    if (plan_.iterations_left->fetch_sub(1, std::memory_order_relaxed) <= 0) return false;
  }
  return true;
}

void WorkerScheduler::arm_timer(int64_t at_ns) {
  int64_t delay_ns = std::max<int64_t>(0, at_ns - clock_.now_ns());
  // Round up so the timer never fires a hair early and finds the deadline not yet reached.
  uint64_t delay_ms = static_cast<uint64_t>((delay_ns + 999'999) / 1'000'000);
  uv_timer_start(timer_, on_timer_cb, delay_ms, 0);
}

void WorkerScheduler::on_timer_cb(uv_timer_t* timer) { static_cast<WorkerScheduler*>(timer->data)->on_timer(); }

void WorkerScheduler::on_timer() {
  int64_t now = clock_.now_ns();
  if (!stopping_ && now >= plan_.end_ns) {
    stopping_ = true;
    graceful_deadline_ns_ = plan_.end_ns + plan_.graceful_stop_ns;
  }
  if (stopping_ && now >= graceful_deadline_ns_) {
    interrupt_all();
  } else if (stopping_) {
    arm_timer(graceful_deadline_ns_);
  } else {
    arm_timer(plan_.end_ns);
  }
  maybe_finish();
}

void WorkerScheduler::interrupt_all() {
  for (auto& slot : vus_) {
    if (slot->busy) slot->body->interrupt();
  }
}

void WorkerScheduler::maybe_finish() {
  if (finished_ || in_flight_ > 0) return;
  // With nothing in flight, no iteration can start again unless we are still inside the plan's window and have
  // budget; the VU loops restart themselves from on_iteration_done, so an idle scheduler before the end means
  // the budget ran out or every VU was stopped.
  if (!stopping_ && clock_.now_ns() < plan_.end_ns && !plan_.iterations_left) return;
  finished_ = true;
  uv_timer_stop(timer_);
  if (on_finished_) on_finished_(result_);
}

}  // namespace luaload::engine::schedule
