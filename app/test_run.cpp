// SPDX-License-Identifier: MIT
#include "app/test_run.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "app/early_interrupt.hpp"
#include "app/exit_codes.hpp"
#include "app/run_report.hpp"
#include "engine/core/clock.hpp"

namespace luaload::app {

using core::mono_now_ns;
using engine::schedule::kSecondNs;

namespace {

// How long a worker may take to answer a collection once it should be idle. A worker's loop answers within
// milliseconds unless a VU holds its thread inside Lua (a CPU-bound loop): past this, the run ends without it.
constexpr int64_t kReplyGraceNs = 2 * kSecondNs;
// How long past the planned end (or past a stop's graceful deadline) the scenario may run before the run is
// declared stuck.
constexpr int64_t kStuckGraceNs = 3 * kSecondNs;

// The replies a phase waits for. Shared with the callbacks, which may run after the phase stopped waiting
// (Ctrl-C, a timeout): they must never touch the waiting function's stack.
struct PendingReplies {
  explicit PendingReplies(size_t count) : left(count) {}
  void reply(std::string e) {
    --left;
    if (!e.empty() && error.empty()) error = std::move(e);
  }
  size_t left;
  std::string error;
};

}  // namespace

TestRun::TestRun(TestRunConfig config) : config_(std::move(config)) {}
TestRun::~TestRun() = default;

int TestRun::execute() {
  open_main_loop();
  std::string error;
  if (!reporting_->start_outputs(&loop_, &error)) {
    std::fprintf(stderr, "luaload: invalid configuration: %s\n", error.c_str());
    close_main_loop();
    return kExitInvalidConfig;
  }
  int code = run_phases();
  reporting_->write_files_only();  // promised files are written on every ending; a no-op after the summary
  close_main_loop();
  return code;
}

void TestRun::open_main_loop() {
  uv_loop_init(&loop_);
  mailbox_ = std::make_unique<engine::loop::Mailbox>(&loop_);
  reporting_ = std::make_unique<RunReport>(config_);
  reporting_->set_script_errors(&script_errors_);
  for (uv_signal_t* signal : {&sigint_, &sigterm_}) {
    uv_signal_init(&loop_, signal);
    signal->data = this;
  }
  auto on_signal = [](uv_signal_t* handle, int) { static_cast<TestRun*>(handle->data)->on_interrupt(); };
  uv_signal_start(&sigint_, on_signal, SIGINT);
  uv_signal_start(&sigterm_, on_signal, SIGTERM);
  if (early_interrupt_pending()) ++interrupts_;  // Ctrl-C while the options were read: stop before any worker
  uv_timer_init(&loop_, &tick_);
  tick_.data = this;
  uv_timer_start(&tick_, [](uv_timer_t* t) { static_cast<TestRun*>(t->data)->on_tick(); }, 1000, 1000);
}

void TestRun::close_main_loop() {
  for (auto& host : hosts_) host->shutdown();
  hosts_.clear();
  reporting_->close_outputs();
  for (uv_handle_t* handle : {reinterpret_cast<uv_handle_t*>(&sigint_), reinterpret_cast<uv_handle_t*>(&sigterm_),
                              reinterpret_cast<uv_handle_t*>(&tick_)}) {
    uv_close(handle, nullptr);
  }
  mailbox_->close();
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
  mailbox_.reset();
}

void TestRun::run_until(const std::function<bool()>& done) {
  while (!done()) uv_run(&loop_, UV_RUN_ONCE);
}

int TestRun::run_phases() {
  if (interrupts_ > 0) return finish(kExitOk);
  std::string error;
  if (!start_workers(&error) || !init_vus(&error)) {
    // A Ctrl-C during the VUs' init still gets its summary (of nothing) and exit code 105.
    if (interrupts_ > 0 && error.empty()) return finish(kExitOk);
    return end_without_summary(init_failure(error));
  }
  std::string setup_json = "null";
  if (int code = run_setup(&setup_json); code != kExitOk) return end_without_summary(code);
  if (interrupts_ == 0) run_scenario();
  int teardown_code = setup_done_ ? run_teardown(setup_json) : kExitOk;
  return finish(teardown_code);
}

int TestRun::finish(int teardown_code) {
  const bool answered = collect_all();
  if (!answered) report_stuck("writing the summary without its latest data");
  int code = report_results();
  if (code == kExitOk && teardown_code != kExitOk) code = teardown_code;
  if (!answered) leave_now(code);
  for (auto& host : hosts_) host->shutdown();
  return code;
}

int TestRun::end_without_summary(int code) {
  if (!collect_all()) {
    report_stuck("ending without it");
    leave_now(code);
  }
  return code;
}

void TestRun::leave_now(int code) {
  // Joining a thread stuck inside lua_resume would hang forever: the promised files are written from the data
  // collected so far, and the process ends without the stuck worker.
  reporting_->write_files_only();
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(code);
}

void TestRun::report_stuck(const char* consequence) {
  if (stuck_) return;
  stuck_ = true;
  reporting_->clear_live_view();
  const int64_t now = mono_now_ns();
  for (size_t i = 0; i < last_reply_ns_.size(); ++i) {
    const double silent_s = static_cast<double>(now - last_reply_ns_[i]) / kSecondNs;
    if (silent_s < 1.0) continue;
    stuck_workers_[i] = true;
    char note[160];
    std::snprintf(note, sizeof(note), "worker %zu was stuck in Lua (a CPU-bound loop?): its last %.0fs are missing", i,
                  silent_s);
    reporting_->add_summary_note(note);
    std::fprintf(stderr,
                 "luaload: worker %zu has not answered for %.0fs: a VU has been running Lua for that long without "
                 "yielding (a CPU-bound loop?); %s\n",
                 i, silent_s, consequence);
  }
}

int TestRun::script_failure(const char* function, const std::string& error) {
  // ll.abort() in setup()/teardown() ends the coroutine with this prefix (bindings/runner.cpp): k6's 108.
  if (error.rfind(kInitAbortMarker, 0) == 0) {
    std::fprintf(stderr, "luaload: test aborted by the script: %s\n",
                 error.substr(std::string(kInitAbortMarker).size()).c_str());
    return kExitScriptAborted;
  }
  std::fprintf(stderr, "luaload: %s failed: %s\n", function, error.c_str());
  return kExitScriptException;
}

void TestRun::stop_workers(int64_t graceful_deadline_ns) {
  for (auto& host : hosts_) host->stop(graceful_deadline_ns);
  const int64_t deadline = std::max(graceful_deadline_ns, mono_now_ns()) + kStuckGraceNs;
  stuck_deadline_ns_ = std::max(std::min(stuck_deadline_ns_, deadline), end_hooks_deadline_ns_);
}

bool TestRun::start_workers(std::string* error) {
  auto pending = std::make_shared<PendingReplies>(static_cast<size_t>(config_.threads));
  for (int i = 0; i < config_.threads; ++i) {
    hosts_.push_back(std::make_unique<WorkerHost>(i, *mailbox_));
    hosts_.back()->start(config_.script, config_.runtime, [pending](std::string e) { pending->reply(std::move(e)); });
  }
  last_reply_ns_.assign(hosts_.size(), mono_now_ns());
  stuck_workers_.assign(hosts_.size(), false);
  run_until([&] { return pending->left == 0 || interrupts_ > 0; });
  *error = pending->error;
  if (pending->left > 0) return false;  // Ctrl-C: run_phases reports what there is
  if (reporting_->wants_samples()) {
    for (auto& host : hosts_) host->enable_sample_log(kSampleLogCapacity);
  }
  return error->empty();
}

// Splits every scenario across the workers: worker i gets share i of the VUs (global ids stay contiguous per
// scenario), of the queue, and iterations i, i+n, ... of an arrival-rate schedule (see ScenarioRun).
std::vector<engine::schedule::WorkerPlan> TestRun::worker_plans() const {
  using namespace engine::schedule;
  const size_t n = hosts_.size();
  std::vector<WorkerPlan> plans(n);
  uint64_t next_id = 1;
  for (const auto& scenario : config_.scenarios) {
    auto shared = std::make_shared<const ScenarioConfig>(scenario);
    std::shared_ptr<std::atomic<int64_t>> budget;
    if (scenario.executor == Executor::SharedIterations)
      budget = std::make_shared<std::atomic<int64_t>>(scenario.iterations);
    const int64_t max_vus = scenario_max_vus(scenario);
    // A scenario with fewer VUs than workers runs on the first max_vus workers only: an arrival-rate share on a
    // worker without VUs would only queue and drop.
    const size_t used = std::min<size_t>(n, static_cast<size_t>(std::max<int64_t>(1, max_vus)));
    for (size_t i = 0; i < used; ++i) {
      WorkerScenarioPlan plan;
      plan.config = shared;
      plan.worker_index = i;
      plan.worker_count = used;
      plan.iterations_left = budget;
      for (int64_t k = 0; k < worker_share(max_vus, i, used); ++k) plan.vu_ids.push_back(next_id++);
      plan.initial_vus = is_arrival_rate(scenario.executor)
                             ? static_cast<size_t>(worker_share(scenario.pre_allocated_vus, i, used))
                             : plan.vu_ids.size();
      plans[i].scenarios.push_back(std::move(plan));
    }
  }
  return plans;
}

bool TestRun::init_vus(std::string* error) {
  auto plans = worker_plans();
  int64_t initial = 0;
  for (const auto& plan : plans) {
    for (const auto& scenario : plan.scenarios) initial += static_cast<int64_t>(scenario.initial_vus);
  }
  auto pending = std::make_shared<PendingReplies>(hosts_.size());
  for (size_t i = 0; i < hosts_.size(); ++i) {
    hosts_[i]->init(std::move(plans[i]), [pending](std::string e) { pending->reply(std::move(e)); });
  }
  run_until([&] { return pending->left == 0 || interrupts_ > 0; });
  *error = pending->error;
  reporting_->set_vus_max(initial);
  return pending->left == 0 && error->empty();
}

int TestRun::run_setup(std::string* setup_json) {
  phase_ = Phase::Setup;
  struct Reply {
    bool done = false;
    std::optional<std::string> json;
    std::string error;
  };
  auto reply = std::make_shared<Reply>();
  hosts_[0]->run_setup([reply](std::optional<std::string> json, std::string e) {
    reply->done = true;
    reply->json = std::move(json);
    reply->error = std::move(e);
  });
  int64_t deadline = mono_now_ns() + config_.options.setup_timeout_ns;
  run_until([&] { return reply->done || interrupts_ > 0 || mono_now_ns() >= deadline; });
  if (!reply->done) {
    if (interrupts_ > 0) return kExitOk;  // setup_done_ stays false: no scenario, no teardown
    std::fprintf(stderr, "luaload: setup() did not finish within setupTimeout\n");
    return kExitSetupTimeout;
  }
  if (!reply->error.empty()) return script_failure("setup()", reply->error);
  if (reply->json) *setup_json = *reply->json;
  setup_done_ = true;
  for (auto& host : hosts_) host->set_setup_data(*setup_json);
  return kExitOk;
}

void TestRun::run_scenario() {
  phase_ = Phase::Running;
  run_start_ns_ = mono_now_ns();
  worker_status_.assign(hosts_.size(), {});
  worker_finished_.assign(hosts_.size(), false);
  reporting_->mark_start(run_start_ns_);
  // Ticks aligned on the run's start: second N of the run is judged right after it ends (delayAbortEval, steps).
  uv_timer_again(&tick_);
  if (config_.options.breaking_point.enabled)
    search_ = std::make_unique<engine::output::BreakingPointSearch>(breaking_point_plan(config_), config_.options.thresholds);
  stuck_deadline_ns_ = run_start_ns_ + engine::schedule::total_planned_ns(config_.scenarios) + kStuckGraceNs;
  const int64_t vu_end_timeout_ns = config_.options.vu_end_timeout_ns;
  for (auto& host : hosts_) {
    host->run_plan(
        run_start_ns_, vu_end_timeout_ns,
        [this, index = host->index()](engine::schedule::WorkerScheduler::Finished result) {
          ++workers_finished_;
          worker_finished_[index] = true;
          interrupted_iterations_ += result.interrupted;
        },
        [this](std::string message) {
          if (aborted_by_script_) return;
          aborted_by_script_ = true;
          abort_message_ = message;
          stop_workers(0);
        },
        // A worker whose VUs run end hooks is not stuck while they run (bounded by vuEndTimeout).
        [this, vu_end_timeout_ns] {
          end_hooks_deadline_ns_ = std::max(end_hooks_deadline_ns_, mono_now_ns() + vu_end_timeout_ns + kStuckGraceNs);
          stuck_deadline_ns_ = std::max(stuck_deadline_ns_, end_hooks_deadline_ns_);
        });
  }
  run_until([&] { return workers_finished_ == hosts_.size() || mono_now_ns() >= stuck_deadline_ns_; });
  if (workers_finished_ < hosts_.size()) report_stuck("the scenario did not end");
  scenario_elapsed_ns_ = mono_now_ns() - run_start_ns_;
  reporting_->set_interrupted_iterations(interrupted_iterations_);
}

int TestRun::run_teardown(const std::string& setup_json) {
  phase_ = Phase::Teardown;
  if (stuck_) {
    std::fprintf(stderr, "luaload: teardown() skipped: a worker is stuck\n");
    return kExitOk;
  }
  auto reply = std::make_shared<PendingReplies>(1);
  hosts_[0]->run_teardown(setup_json, [reply](std::string e) { reply->reply(std::move(e)); });
  // A Ctrl-C during the run still lets teardown() run; one during teardown() stops waiting for it.
  const int interrupts_before = interrupts_;
  int64_t deadline = mono_now_ns() + config_.options.teardown_timeout_ns;
  run_until([&] { return reply->left == 0 || interrupts_ > interrupts_before || mono_now_ns() >= deadline; });
  if (reply->left > 0) {
    if (interrupts_ > interrupts_before) return kExitOk;
    std::fprintf(stderr, "luaload: teardown() did not finish within teardownTimeout\n");
    return kExitTeardownTimeout;
  }
  if (!reply->error.empty()) return script_failure("teardown()", reply->error);
  return kExitOk;
}

bool TestRun::collect_all() {
  // A worker already found stuck will not answer: waiting kReplyGraceNs more for it only delays the summary.
  const auto stuck = static_cast<size_t>(std::count(stuck_workers_.begin(), stuck_workers_.end(), true));
  auto pending = std::make_shared<size_t>(hosts_.size() - stuck);
  for (auto& host : hosts_) {
    if (stuck_workers_[host->index()]) continue;
    host->collect([this, index = host->index(), pending](WorkerReport report) {
      last_reply_ns_[index] = mono_now_ns();
      merge_report(std::move(report));
      --*pending;
    });
  }
  const int64_t deadline = mono_now_ns() + kReplyGraceNs;
  run_until([&] { return *pending == 0 || mono_now_ns() >= deadline; });
  return *pending == 0 && stuck == 0;
}

void TestRun::merge_report(WorkerReport report) {
  for (const auto& error : report.errors) {
    if (script_errors_.add(error.message, error.count, error.traceback)) {
      reporting_->clear_live_view();
      std::fprintf(stderr, "luaload: iteration error: %s\n%s\n", error.message.c_str(), error.traceback.c_str());
    }
  }
  if (search_ && phase_ == Phase::Running) search_->merge(report.delta);
  reporting_->merge(std::move(report));
}

void TestRun::on_tick() {
  if (phase_ != Phase::Running) return;
  int64_t now = mono_now_ns();
  // Once every worker's snapshot taken at this tick is in, the report's time series closes an interval, and the
  // thresholds and the breaking-point search are judged: an abortOnFail threshold sees data at most a tick old (it
  // stops within delayAbortEval + 1 s).
  auto replies_left = std::make_shared<size_t>(hosts_.size());
  for (auto& host : hosts_) {
    host->collect([this, index = host->index(), replies_left, now](WorkerReport report) {
      worker_status_[index] = report.status;
      last_reply_ns_[index] = mono_now_ns();
      merge_report(std::move(report));
      if (--*replies_left == 0) {
        // Summed only once every worker has answered: a partial sum would record half the VUs as a vus sample.
        size_t active = 0;
        size_t allocated = 0;
        for (const auto& status : worker_status_) {
          active += status.active_vus;
          allocated += status.allocated_vus;
        }
        reporting_->set_vus(static_cast<int64_t>(active));
        reporting_->set_scenario_vus(worker_status_);
        reporting_->set_vus_max(static_cast<int64_t>(allocated));
        reporting_->sample_time_series(now);
        reporting_->on_tick(now, config_.scenarios);  // outputs and the live view see this tick's data
        if (phase_ == Phase::Running) judge_tick();
      }
    });
  }
}

void TestRun::judge_tick() {
  int64_t now = mono_now_ns();
  if (search_ && !search_done_ && search_->on_tick(now - run_start_ns_)) {
    // The step that failed is the answer: stop at once, nothing more to learn from the remaining iterations.
    search_done_ = true;
    reporting_->clear_live_view();
    std::fprintf(stderr, "\nluaload: breaking point found at %lld iterations/s; stopping\n",
                 static_cast<long long>(search_->result().steps.back().rate));
    stop_workers(now);
    return;
  }
  if (!search_ && !aborted_by_threshold_ && reporting_->thresholds_demand_abort(now)) {
    aborted_by_threshold_ = true;
    reporting_->clear_live_view();
    std::fprintf(stderr, "luaload: a threshold with abortOnFail failed; stopping the test\n");
    stop_workers(0);
  }
}

void TestRun::on_interrupt() {
  ++interrupts_;
  if (interrupts_ == 1) {
    reporting_->clear_live_view();
    std::fprintf(stderr, "\nluaload: stopping: running iterations get up to %.0fs to finish (Ctrl-C again to quit now)\n",
                 static_cast<double>(config_.interrupt_grace_ns) / kSecondNs);
    stop_workers(mono_now_ns() + config_.interrupt_grace_ns);
    return;
  }
  // Second Ctrl-C: what we have is reported and written, then we leave without waiting for the workers. Their
  // iterations still running are cut now: they count as interrupted, as of each worker's latest status.
  if (phase_ == Phase::Running) {
    uint64_t interrupted = interrupted_iterations_;
    for (size_t i = 0; i < worker_status_.size(); ++i) {
      if (!worker_finished_[i]) interrupted += worker_status_[i].interrupted + worker_status_[i].active_vus;
    }
    reporting_->set_interrupted_iterations(interrupted);
  }
  reporting_->write_final(/*interrupted=*/true);
  std::fflush(stdout);
  std::_Exit(kExitExternalAbort);
}

int TestRun::report_results() {
  phase_ = Phase::Reporting;
  if (search_) search_->finish(scenario_elapsed_ns_);
  if (search_) reporting_->set_breaking_point(&search_->result());
  bool thresholds_ok = reporting_->write_final(interrupts_ > 0);
  // In a breaking-point search failing thresholds are how the search ends: the run fails only when not even the
  // first step held them.
  if (search_) thresholds_ok = search_->result().highest_ok_rate.has_value() || !search_->result().broke;
  if (aborted_by_script_) {
    std::fprintf(stderr, "luaload: test aborted by the script: %s\n", abort_message_.c_str());
    return kExitScriptAborted;
  }
  if (!thresholds_ok || aborted_by_threshold_) return kExitThresholdsFailed;
  if (interrupts_ > 0) return kExitExternalAbort;
  if (reporting_->regressed()) return kExitRegression;
  return kExitOk;
}

}  // namespace luaload::app
