// SPDX-License-Identifier: MIT
#include "engine/schedule/scenario_run.hpp"

#include <algorithm>

#include "engine/core/assert.hpp"
#include "engine/metrics/builtin.hpp"

namespace luaload::engine::schedule {

namespace builtin = metrics::builtin;

// Ramps are re-evaluated this often: a 1-VU step is at most this late.
constexpr int64_t kRampPollNs = 10'000'000;

struct ScenarioRun::VuSlot {
  uint64_t id = 0;
  std::unique_ptr<VuBody> body;
  bool busy = false;
  bool active = false;  // closed model: wanted by the current VU target
  uint64_t iterations = 0;
  int64_t iteration_start_ns = 0;
  int64_t ramp_down_deadline_ns = kNever;
};

ScenarioRun::ScenarioRun(WorkerScenarioPlan plan, VuFactory& factory, metrics::Registry& registry,
                         const core::Clock& clock, OnIterationDone on_done)
    : plan_(std::move(plan)), factory_(factory), registry_(registry), clock_(clock), on_done_(std::move(on_done)) {
  metrics::Tags tags{{"scenario", plan_.config->name}};
  for (const auto& tag : plan_.config->tags) tags.push_back(tag);
  tags_ = registry_.intern(std::move(tags));
  for (uint64_t id : plan_.vu_ids) {
    auto slot = std::make_unique<VuSlot>();
    slot->id = id;
    slots_.push_back(std::move(slot));
  }
  if (!closed_model()) {
    schedule_ = ArrivalSchedule::from(*plan_.config);
    next_k_ = plan_.worker_index;
    next_due_ = schedule_->time_of(next_k_);
    max_queued_ = static_cast<size_t>(worker_share(plan_.config->max_queued, plan_.worker_index, plan_.worker_count));
  }
}

ScenarioRun::~ScenarioRun() = default;

bool ScenarioRun::init_vus(std::string* error) {
  for (size_t i = 0; i < std::min(plan_.initial_vus, slots_.size()); ++i) {
    slots_[i]->body = factory_.create_vu_for(slots_[i]->id, plan_.config->exec, error);
    if (!slots_[i]->body) return false;
    ++created_;
    idle_.push_back(slots_[i].get());
  }
  // Idle VUs are taken from the back: keep the lowest ids first in line.
  std::reverse(idle_.begin(), idle_.end());
  return true;
}

size_t ScenarioRun::allocated_vus() const { return created_; }

std::string ScenarioRun::abort_message(const VuSlot& slot) const { return slot.body->abort_message(); }

void ScenarioRun::start(int64_t test_start_ns) {
  start_ns_ = test_start_ns + plan_.config->start_time_ns;
  end_ns_ = start_ns_ + scenario_duration_ns(*plan_.config);
}

int64_t ScenarioRun::service(int64_t now) {
  if (start_ns_ == kNever) return kNever;
  if (!stopping_ && now >= end_ns_) begin_stop(end_ns_ + plan_.config->graceful_stop_ns);
  if (stopping_) {
    if (now >= deadline_ns_) {
      interrupt_all();
      return kNever;
    }
    return in_flight_ > 0 ? deadline_ns_ : kNever;
  }
  if (now < start_ns_) return start_ns_;
  started_ = true;
  if (closed_model()) {
    service_closed(now);
    bool ramping = plan_.config->executor == Executor::RampingVus;
    return ramping ? std::min(end_ns_, now + kRampPollNs) : end_ns_;
  }
  service_arrivals(now);
  return next_due_ ? std::min(end_ns_, start_ns_ + *next_due_) : end_ns_;
}

int64_t ScenarioRun::target_vus(int64_t now) const {
  const ScenarioConfig& c = *plan_.config;
  int64_t total = c.executor == Executor::RampingVus ? ramping_vus_at(c.start_vus, c.stages, now - start_ns_) : c.vus;
  return worker_share(total, plan_.worker_index, plan_.worker_count);
}

void ScenarioRun::service_closed(int64_t now) {
  set_active(static_cast<size_t>(std::min<int64_t>(target_vus(now), static_cast<int64_t>(slots_.size()))), now);
  if (ramping_down_ == 0) return;
  for (size_t i = active_; i < slots_.size(); ++i) {
    VuSlot& slot = *slots_[i];
    if (slot.busy && slot.ramp_down_deadline_ns <= now) {
      slot.ramp_down_deadline_ns = kNever;
      slot.body->interrupt();
    }
  }
}

// Slots [0, count) loop iterations; ramping down takes the highest slots first, as k6 does.
void ScenarioRun::set_active(size_t count, int64_t now) {
  while (active_ > count) {
    VuSlot& slot = *slots_[--active_];
    slot.active = false;
    if (slot.busy) {
      slot.ramp_down_deadline_ns = now + plan_.config->graceful_ramp_down_ns;
      ++ramping_down_;
    }
  }
  while (active_ < count) {
    VuSlot& slot = *slots_[active_++];
    slot.active = true;
    if (slot.ramp_down_deadline_ns != kNever) {
      slot.ramp_down_deadline_ns = kNever;  // still busy: it simply keeps going
      --ramping_down_;
    }
    if (!slot.busy && slot.body && may_loop(slot, now)) start_iteration(slot, now, now);
  }
}

bool ScenarioRun::may_loop(VuSlot& slot, int64_t now) {
  if (stopping_ || !slot.active || now >= end_ns_) return false;
  if (plan_.config->executor == Executor::PerVuIterations) return slot.iterations < static_cast<uint64_t>(plan_.config->iterations);
  if (plan_.iterations_left) return plan_.iterations_left->fetch_sub(1, std::memory_order_relaxed) > 0;
  return true;
}

void ScenarioRun::service_arrivals(int64_t now) {
  while (next_due_ && start_ns_ + *next_due_ <= now && start_ns_ + *next_due_ < end_ns_) {
    int64_t due = start_ns_ + *next_due_;
    if (queue_.empty()) {
      if (VuSlot* slot = free_slot()) {
        start_iteration(*slot, due, now);
      } else if (max_queued_ > 0) {
        queue_.push_back(due);
      } else {
        drop(1);
      }
    } else if (queue_.size() < max_queued_) {
      queue_.push_back(due);
    } else {
      drop(1);
    }
    next_k_ += plan_.worker_count;
    next_due_ = schedule_->time_of(next_k_);
  }
  if (next_due_ && start_ns_ + *next_due_ >= end_ns_) next_due_.reset();
}

ScenarioRun::VuSlot* ScenarioRun::free_slot() {
  if (!idle_.empty()) {
    VuSlot* slot = idle_.back();
    idle_.pop_back();
    return slot;
  }
  if (created_ >= slots_.size() || create_failed_) return nullptr;
  VuSlot& slot = *slots_[created_];
  std::string error;
  slot.body = factory_.create_vu_for(slot.id, plan_.config->exec, &error);
  if (!slot.body) {
    // The init code worked for the preallocated VUs; a failure now (e.g. memory) stops the scenario growing.
    create_failed_ = true;
    return nullptr;
  }
  ++created_;
  return &slot;
}

void ScenarioRun::drop(uint64_t count) {
  stats_.dropped += count;
  registry_.add(builtin::kDroppedIterations, tags_, static_cast<double>(count));
}

void ScenarioRun::start_iteration(VuSlot& slot, int64_t scheduled_ns, int64_t now) {
  slot.busy = true;
  slot.iteration_start_ns = now;
  ++in_flight_;
  IterationContext context;
  context.iteration_in_vu = slot.iterations++;
  context.iteration_in_scenario = started_iterations_++ * plan_.worker_count + plan_.worker_index;
  context.scenario = plan_.config->name;
  context.exec = plan_.config->exec;
  context.scheduled_start_ns = scheduled_ns;
  context.start_lag_ns = now - scheduled_ns;
  context.config = plan_.config;
  if (!closed_model())
    registry_.add(builtin::kIterationStartLag, tags_, static_cast<double>(context.start_lag_ns) / 1e6);
  slot.body->run_iteration(context, [this, &slot](IterationOutcome outcome) { on_iteration_done(slot, outcome); });
}

void ScenarioRun::on_iteration_done(VuSlot& slot, IterationOutcome outcome) {
  LUALOAD_ASSERT(slot.busy && in_flight_ > 0);
  slot.busy = false;
  --in_flight_;
  if (slot.ramp_down_deadline_ns != kNever) {
    slot.ramp_down_deadline_ns = kNever;
    --ramping_down_;
  }
  int64_t now = clock_.now_ns();
  if (outcome == IterationOutcome::Interrupted) {
    ++stats_.interrupted;
  } else {
    // Failed iterations count, like k6: the VU ran the whole function, it just did not end well.
    registry_.add(builtin::kIterations, tags_, 1);
    registry_.add(builtin::kIterationDuration, tags_, static_cast<double>(now - slot.iteration_start_ns) / 1e6);
    registry_.add(builtin::kIterationFailed, tags_, outcome == IterationOutcome::Completed ? 0 : 1);
    ++stats_.iterations;
  }
  if (outcome != IterationOutcome::Aborted) {
    if (closed_model()) {
      if (may_loop(slot, now)) start_iteration(slot, now, now);
    } else if (!stopping_ && !queue_.empty()) {
      int64_t due = queue_.front();
      queue_.pop_front();
      start_iteration(slot, due, now);
    } else {
      idle_.push_back(&slot);
    }
  }
  on_done_(*this, slot, outcome);
}

void ScenarioRun::begin_stop(int64_t deadline_ns) {
  stopping_ = true;
  deadline_ns_ = std::min(deadline_ns_, deadline_ns);
  if (!queue_.empty()) {
    drop(queue_.size());
    queue_.clear();
  }
  next_due_.reset();
}

void ScenarioRun::stop(int64_t deadline_ns) {
  begin_stop(deadline_ns);
  if (deadline_ns <= clock_.now_ns()) interrupt_all();
}

void ScenarioRun::interrupt_all() {
  for (auto& slot : slots_) {
    if (slot->busy) slot->body->interrupt();
  }
}

bool ScenarioRun::finished() const {
  if (in_flight_ > 0) return false;
  if (stopping_ || start_ns_ == kNever) return stopping_;
  if (!started_) return false;
  if (closed_model()) {
    if (slots_.empty()) return true;  // this worker has no share of the scenario's VUs
    if (plan_.iterations_left && plan_.iterations_left->load(std::memory_order_relaxed) <= 0) return true;
    if (plan_.config->executor == Executor::PerVuIterations) {
      return std::all_of(slots_.begin(), slots_.end(), [this](const auto& s) {
        return !s->active || s->iterations >= static_cast<uint64_t>(plan_.config->iterations);
      }) && active_ == slots_.size();
    }
    return false;
  }
  return !next_due_ && queue_.empty();
}

void ScenarioRun::release_vus() {
  LUALOAD_CHECK(in_flight_ == 0, "releasing VUs with iterations in flight");
  idle_.clear();
  slots_.clear();
}

}  // namespace luaload::engine::schedule
