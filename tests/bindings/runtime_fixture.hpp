// SPDX-License-Identifier: MIT
#pragma once

#include <gtest/gtest.h>
#include <uv.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings/worker_runtime.hpp"
#include "support/misbehaving_server.hpp"

namespace luaload::bindings::test {

// A plain answer from the scripted server.
inline luaload::test::Reply respond(int status, const std::string& body, const std::string& headers = {}) {
  luaload::test::Reply reply;
  reply.bytes = luaload::test::http_response(status, body, headers);
  return reply;
}

using engine::schedule::IterationContext;
using engine::schedule::IterationOutcome;
using engine::schedule::VuBody;

// A WorkerRuntime (and, for tests that need one, a scripted MisbehavingServer in server_) on the test's own loop.
// TearDown closes the server, then the runtime, and checks that the loop closes with no handle left.
class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(uv_loop_init(&loop_), 0); }

  void TearDown() override {
    if (server_ != nullptr) {
      bool closed = false;
      server_->close([&closed] { closed = true; });
      EXPECT_TRUE(luaload::test::run_until(&loop_, [&] { return closed; }));
      server_.reset();
    }
    vus_.clear();
    if (runtime_ != nullptr) {
      bool closed = false;
      runtime_->close([&closed] { closed = true; });
      EXPECT_TRUE(luaload::test::run_until(&loop_, [&] { return closed; }));
      runtime_.reset();
    }
    uv_run(&loop_, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  // Serves `replies` from server_, and loads `code` with ll.env.URL pointing at it.
  void serve(std::vector<luaload::test::Reply> replies, const std::string& code) {
    server_ = std::make_unique<luaload::test::MisbehavingServer>(&loop_, std::move(replies));
    RuntimeConfig config;
    config.env["URL"] = server_->url("/");
    load(code, config);
  }

  // The one script error recorded since the last take; a failure (and an empty error) unless there is exactly one.
  WorkerRuntime::ScriptError only_script_error() {
    auto errors = runtime_->take_script_errors();
    EXPECT_EQ(errors.size(), 1u);
    return errors.size() == 1 ? errors[0] : WorkerRuntime::ScriptError{};
  }

  void expect_no_script_errors() {
    auto errors = runtime_->take_script_errors();
    EXPECT_TRUE(errors.empty()) << errors[0].traceback;
  }

  // Creates the runtime for `code` (as "script.lua"); fails the test on a load error.
  WorkerRuntime& load(const std::string& code, RuntimeConfig config = {}) {
    std::string error;
    runtime_ = WorkerRuntime::create(&loop_, 0, {"script.lua", code}, config, &error);
    EXPECT_NE(runtime_, nullptr) << error;
    return *runtime_;
  }

  VuBody& vu(uint64_t id) {
    std::string error;
    auto body = runtime_->create_vu(id, &error);
    EXPECT_NE(body, nullptr) << error;
    vus_.push_back(std::move(body));
    return *vus_.back();
  }

  // Starts one iteration; the outcome lands in the returned slot once the loop delivers it.
  std::shared_ptr<std::optional<IterationOutcome>> start(VuBody& body, uint64_t iteration = 0) {
    auto outcome = std::make_shared<std::optional<IterationOutcome>>();
    IterationContext context;
    context.iteration_in_vu = iteration;
    body.run_iteration(context, [outcome](IterationOutcome o) {
      EXPECT_FALSE(outcome->has_value()) << "done ran twice";
      *outcome = o;
    });
    EXPECT_FALSE(outcome->has_value()) << "done ran from inside run_iteration";
    return outcome;
  }

  // Runs one iteration to its end (bounded in time).
  IterationOutcome run_one(VuBody& body, uint64_t iteration = 0) {
    auto outcome = start(body, iteration);
    EXPECT_TRUE(luaload::test::run_until(&loop_, [&] { return outcome->has_value(); }));
    return outcome->value_or(IterationOutcome::Interrupted);
  }

  // The series of `metric` whose tags include every pair in `tags`, from a fresh delta.
  static const engine::metrics::SeriesDelta* find_series(const engine::metrics::Delta& delta,
                                                         const std::string& metric,
                                                         const engine::metrics::Tags& tags) {
    for (const auto& series : delta.series) {
      if (series.metric != metric) {
        continue;
      }
      bool all = true;
      for (const auto& tag : tags) {
        bool found = false;
        for (const auto& have : series.tags) {
          found = found || have == tag;
        }
        all = all && found;
      }
      if (all) {
        return &series;
      }
    }
    return nullptr;
  }

  uv_loop_t loop_{};
  std::unique_ptr<luaload::test::MisbehavingServer> server_;
  std::unique_ptr<WorkerRuntime> runtime_;
  std::vector<std::unique_ptr<VuBody>> vus_;
};

}  // namespace luaload::bindings::test
