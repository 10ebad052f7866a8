// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "bindings/runtime_fixture.hpp"

namespace luaload::bindings::test {
namespace {

struct SetupResult {
  bool done = false;
  std::optional<std::string> json;
  std::string error;
};

class SetupTest : public RuntimeTest {
 protected:
  SetupResult setup() {
    SetupResult result;
    runtime_->run_setup([&result](std::optional<std::string> json, std::string error) {
      result.done = true;
      result.json = std::move(json);
      result.error = std::move(error);
    });
    EXPECT_FALSE(result.done) << "done ran from inside run_setup";
    EXPECT_TRUE(luaload::test::run_until(&loop_, [&] { return result.done; }));
    return result;
  }
};

TEST_F(SetupTest, SetupReturnValueIsJsonAndEachVuGetsItsOwnCopy) {
  load(R"(
    local ll = require("luaload")
    function setup() ll.sleep(0.001) return { items = { 1, 2, { name = "x" } } } end
    function default(data)
      if ll.vu.id == 1 then data.items[3].name = "changed"; data.items[1] = 99 end
      if ll.vu.id == 2 and (data.items[3].name ~= "x" or data.items[1] ~= 1) then error("data shared") end
    end
  )");
  SetupResult result = setup();
  ASSERT_TRUE(result.json.has_value()) << result.error;
  EXPECT_EQ(*result.json, R"({"items":[1,2,{"name":"x"}]})");
  runtime_->set_setup_data(*result.json);
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  EXPECT_EQ(run_one(vu(2)), IterationOutcome::Completed);
  auto errors = runtime_->take_script_errors();
  EXPECT_TRUE(errors.empty()) << errors[0].traceback;
}

TEST_F(SetupTest, MissingSetupGivesNull) {
  load("function default() end\n");
  SetupResult result = setup();
  ASSERT_TRUE(result.json.has_value());
  EXPECT_EQ(*result.json, "null");
}

TEST_F(SetupTest, SetupReturningAFunctionIsAClearError) {
  load("function setup() return { f = function() end } end\nfunction default() end\n");
  SetupResult result = setup();
  EXPECT_FALSE(result.json.has_value());
  EXPECT_NE(result.error.find("setup() returned a value that cannot be passed to the VUs as JSON"),
            std::string::npos)
      << result.error;
}

TEST_F(SetupTest, SetupErrorComesWithTraceback) {
  load("function setup()\n  error('no token')\nend\nfunction default() end\n");
  SetupResult result = setup();
  EXPECT_FALSE(result.json.has_value());
  EXPECT_EQ(result.error.substr(0, result.error.find('\n')), "script.lua:2: no token");
  EXPECT_NE(result.error.find("stack traceback:"), std::string::npos);
}

TEST_F(SetupTest, TeardownReceivesTheSetupData) {
  load(R"(
    function default() end
    function teardown(data) if data.token ~= "t" then error("teardown got " .. tostring(data.token)) end end
  )");
  bool done = false;
  std::string error = "not run";
  runtime_->run_teardown(R"({"token":"t"})", [&](std::string e) {
    done = true;
    error = std::move(e);
  });
  EXPECT_TRUE(luaload::test::run_until(&loop_, [&] { return done; }));
  EXPECT_EQ(error, "");
}

TEST(ReadScriptOptions, ReturnsTheOptionsTableAsJson) {
  std::string error;
  auto json = read_script_options(
      {"script.lua", "options = { thresholds = { http_req_duration = { 'p(95)<300' } } }\n"
                     "function default() end\n"},
      {}, &error);
  ASSERT_TRUE(json.has_value()) << error;
  EXPECT_EQ(*json, R"({"thresholds":{"http_req_duration":["p(95)<300"]}})");
}

TEST(ReadScriptOptions, NoOptionsGivesEmptyObject) {
  std::string error;
  auto json = read_script_options({"script.lua", "function default() end\n"}, {}, &error);
  ASSERT_TRUE(json.has_value()) << error;
  EXPECT_EQ(*json, "{}");
}

TEST(ReadScriptOptions, SyntaxErrorIsReportedWithFileAndLine) {
  std::string error;
  auto json = read_script_options({"scripts/load.lua", "options = {}\nlocal x = = 1\n"}, {}, &error);
  EXPECT_FALSE(json.has_value());
  EXPECT_EQ(error.rfind("scripts/load.lua:", 0), 0u) << error;
  EXPECT_NE(error.find("scripts/load.lua:2:"), std::string::npos) << error;
}

TEST(ReadScriptOptions, EnvIsAvailableToInitCode) {
  RuntimeConfig config;
  config.env["VUS"] = "3";
  std::string error;
  auto json = read_script_options(
      {"s.lua", "options = { vus = tonumber(require('luaload').env.VUS) }\nfunction default() end\n"}, config,
      &error);
  ASSERT_TRUE(json.has_value()) << error;
  EXPECT_EQ(*json, R"({"vus":3})");
}

TEST(ReadScriptOptions, FactsListTheGlobalFunctionsAndTheMetricsTheInitCodeDefined) {
  std::string error;
  ScriptFacts facts;
  auto json = read_script_options({"s.lua", "local ll = require('luaload')\n"
                                            "local waits = ll.metrics.Counter('my_waits')\n"
                                            "local function helper() end\n"
                                            "checkout = function() helper() end\n"
                                            "answer = 42\n"
                                            "function default() end\n"},
                                  {}, &error, &facts);
  ASSERT_TRUE(json.has_value()) << error;
  EXPECT_EQ(facts.functions, (std::set<std::string>{"checkout", "default"}));
  std::set<std::string> metrics;
  for (const auto& def : facts.metrics) metrics.insert(def.name);
  EXPECT_EQ(metrics.count("my_waits"), 1u);
  EXPECT_EQ(metrics.count("http_req_duration"), 1u);
  EXPECT_EQ(metrics.count("stream_events"), 1u);
  EXPECT_EQ(metrics.count("helper"), 0u);
}

}  // namespace
}  // namespace luaload::bindings::test
