// SPDX-License-Identifier: MIT
#include "app/worker_host.hpp"

namespace luaload::app {

using engine::schedule::WorkerScheduler;

WorkerHost::WorkerHost(int index, engine::loop::Mailbox& main_mailbox)
    : index_(index), main_mailbox_(main_mailbox), worker_("worker-" + std::to_string(index)) {}

WorkerHost::~WorkerHost() { shutdown(); }

void WorkerHost::reply(std::function<void()> task) { main_mailbox_.post(std::move(task)); }

void WorkerHost::start(const bindings::ScriptSource& script, const bindings::RuntimeConfig& config,
                       std::function<void(std::string)> ready) {
  worker_.start(
      [this, script, config, ready = std::move(ready)] {
        std::string error;
        runtime_ = bindings::WorkerRuntime::create(worker_.loop(), index_, script, config, &error);
        if (runtime_) {
          scheduler_ = std::make_unique<WorkerScheduler>(worker_.loop(), *runtime_, runtime_->registry(), clock_);
        }
        reply([ready, error] { ready(error); });
      },
      [this] { close_on_worker(); });
}

void WorkerHost::init(engine::schedule::WorkerPlan plan, std::function<void(std::string)> done) {
  worker_.post([this, plan = std::move(plan), done = std::move(done)]() mutable {
    std::string error;
    scheduler_->init(std::move(plan), &error);
    reply([done, error] { done(error); });
  });
}

void WorkerHost::run_setup(std::function<void(std::optional<std::string>, std::string)> done) {
  worker_.post([this, done = std::move(done)] {
    runtime_->run_setup([this, done](std::optional<std::string> json, std::string error) {
      reply([done, json = std::move(json), error = std::move(error)] { done(json, error); });
    });
  });
}

void WorkerHost::set_setup_data(std::string json) {
  worker_.post([this, json = std::move(json)] { runtime_->set_setup_data(json); });
}

void WorkerHost::run_plan(int64_t test_start_ns, int64_t vu_end_timeout_ns,
                          std::function<void(WorkerScheduler::Finished)> finished,
                          std::function<void(std::string)> aborted, std::function<void()> ending) {
  worker_.post([=, this] {
    auto on_finished = [=, this](WorkerScheduler::Finished result) {
      auto done = [=, this] { reply([finished, result] { finished(result); }); };
      if (runtime_->run_vu_end_hooks(vu_end_timeout_ns, done) && ending) reply(ending);
    };
    scheduler_->start(test_start_ns, on_finished,
                      [this, aborted](std::string message) { reply([aborted, message] { aborted(message); }); });
  });
}

void WorkerHost::stop(int64_t graceful_deadline_ns) {
  worker_.post([this, graceful_deadline_ns] {
    if (scheduler_) scheduler_->stop(graceful_deadline_ns);
  });
}

void WorkerHost::collect(std::function<void(WorkerReport)> done) {
  worker_.post([this, done = std::move(done)] {
    auto report = std::make_shared<WorkerReport>();
    if (runtime_) {
      report->delta = runtime_->registry().take_delta();
      report->errors = runtime_->take_script_errors();
    }
    if (scheduler_) report->status = scheduler_->status();
    reply([done, report] { done(std::move(*report)); });
  });
}

void WorkerHost::enable_sample_log(size_t capacity) {
  worker_.post([this, capacity] {
    if (runtime_) runtime_->registry().enable_sample_log(capacity);
  });
}

void WorkerHost::run_teardown(std::string setup_json, std::function<void(std::string)> done) {
  worker_.post([this, setup_json = std::move(setup_json), done = std::move(done)] {
    runtime_->run_teardown(setup_json, [this, done](std::string error) { reply([done, error] { done(error); }); });
  });
}

bool WorkerHost::shutdown() {
  if (shut_down_) return true;
  shut_down_ = true;
  worker_.request_stop();
  return worker_.join();
}

void WorkerHost::close_on_worker() {
  // The scheduler holds the VUs, which belong to the runtime: close it first.
  auto close_runtime = [this] {
    if (!runtime_) return;
    auto* runtime = runtime_.get();
    runtime->close([this] { runtime_.reset(); });
  };
  if (scheduler_) {
    scheduler_->close([this, close_runtime] {
      scheduler_.reset();
      close_runtime();
    });
  } else {
    close_runtime();
  }
}

}  // namespace luaload::app
