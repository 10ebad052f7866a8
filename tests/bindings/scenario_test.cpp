// SPDX-License-Identifier: MIT
// What a scenario gives a Lua VU: its exec function, its tags and env on every sample, and the iteration's start
// lag added to http_req_duration_corrected.
#include <gtest/gtest.h>

#include "runtime_fixture.hpp"

namespace luaload::bindings::test {
namespace {

using luaload::test::MisbehavingServer;
using luaload::test::Reply;
using engine::schedule::Executor;

class ScenarioVuTest : public RuntimeTest {
 protected:
  VuBody& vu_for(uint64_t id, const std::string& exec) {
    std::string error;
    auto body = runtime_->create_vu_for(id, exec, &error);
    EXPECT_NE(body, nullptr) << error;
    vus_.push_back(std::move(body));
    return *vus_.back();
  }

  // Runs one iteration as scenario "buy" (tags team=web, env PAGE=/cart) calling `exec`, `lag_ns` late.
  IterationOutcome run_in_scenario(VuBody& body, const std::string& exec, int64_t lag_ns = 0,
                                   Executor executor = Executor::ConstantArrivalRate) {
    auto config = std::make_shared<engine::schedule::ScenarioConfig>();
    config->executor = executor;
    config->name = "buy";
    config->exec = exec;
    config->tags = {{"team", "web"}};
    config->env = {{"PAGE", "/cart"}};
    IterationContext context;
    context.scenario = "buy";
    context.exec = exec;
    context.config = config;
    context.start_lag_ns = lag_ns;
    std::optional<IterationOutcome> outcome;
    body.run_iteration(context, [&outcome](IterationOutcome o) { outcome = o; });
    EXPECT_TRUE(luaload::test::run_until(&loop_, [&] { return outcome.has_value(); }));
    return outcome.value_or(IterationOutcome::Interrupted);
  }
};

TEST_F(ScenarioVuTest, AnIterationCallsTheScenarioExecFunctionWithTheScenarioTagsAndEnv) {
  load(R"(
local ll = require("luaload")
local hits = ll.metrics.Counter("hits")
function default() error("default must not run") end
function checkout() hits:add(1, { page = ll.env.PAGE }) end
)");
  auto& body = vu_for(1, "checkout");
  ASSERT_EQ(run_in_scenario(body, "checkout"), IterationOutcome::Completed);
  auto delta = runtime_->registry().take_delta();
  auto* series = find_series(delta, "hits", {{"scenario", "buy"}, {"team", "web"}, {"page", "/cart"}});
  ASSERT_NE(series, nullptr);
  EXPECT_EQ(series->sink.counter().sum, 1);
}

TEST_F(ScenarioVuTest, AVuForAMissingExecFunctionIsNotCreated) {
  load("function default() end\n");
  std::string error;
  EXPECT_EQ(runtime_->create_vu_for(1, "checkout", &error), nullptr);
  EXPECT_NE(error.find("no function \"checkout\""), std::string::npos) << error;
}

TEST_F(ScenarioVuTest, RequestsOfALateIterationAddItsLagToTheCorrectedDuration) {
  server_ = std::make_unique<MisbehavingServer>(&loop_, std::vector<Reply>{Reply{Reply::Action::Respond,
                                                                                   luaload::test::http_response(200, "ok")}});
  RuntimeConfig config;
  config.env["URL"] = server_->url("/");
  load(R"(
local http = require("luaload.http")
local ll = require("luaload")
function buy() http.get(ll.env.URL) http.get(ll.env.URL) end
)", config);
  auto& body = vu_for(1, "buy");
  ASSERT_EQ(run_in_scenario(body, "buy", 250'000'000), IterationOutcome::Completed);
  auto delta = runtime_->registry().take_delta();
  auto* plain = find_series(delta, "http_req_duration", {{"scenario", "buy"}, {"team", "web"}});
  auto* corrected = find_series(delta, "http_req_duration_corrected", {{"scenario", "buy"}, {"team", "web"}});
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(corrected, nullptr);
  EXPECT_EQ(corrected->sink.trend().count(), 2u);
  // Each request: its own duration plus the same 250 ms (histogram buckets are within 1 %).
  EXPECT_NEAR(corrected->sink.trend().min(), plain->sink.trend().min() + 250, 3);
  EXPECT_NEAR(corrected->sink.trend().max(), plain->sink.trend().max() + 250, 3);
}

TEST_F(ScenarioVuTest, ClosedModelRequestsRecordNoCorrectedDuration) {
  server_ = std::make_unique<MisbehavingServer>(&loop_, std::vector<Reply>{Reply{Reply::Action::Respond,
                                                                                   luaload::test::http_response(200, "ok")}});
  RuntimeConfig config;
  config.env["URL"] = server_->url("/");
  load(R"(
local http = require("luaload.http")
local ll = require("luaload")
function buy() http.get(ll.env.URL) end
)", config);
  auto& body = vu_for(1, "buy");
  ASSERT_EQ(run_in_scenario(body, "buy", 0, Executor::ConstantVus), IterationOutcome::Completed);
  auto delta = runtime_->registry().take_delta();
  EXPECT_NE(find_series(delta, "http_req_duration", {{"scenario", "buy"}}), nullptr);
  EXPECT_EQ(find_series(delta, "http_req_duration_corrected", {{"scenario", "buy"}}), nullptr);
}

}  // namespace
}  // namespace luaload::bindings::test
