// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include "bindings/runtime_fixture.hpp"
#include "engine/metrics/builtin.hpp"

namespace luaload::bindings::test {
namespace {

TEST_F(RuntimeTest, CheckRecordsOneRateSamplePerCheckWithGroupAndUserTags) {
  load(R"(
    local ll = require("luaload")
    function default()
      ll.group("login", function()
        local all = ll.check(5, {
          ["is five"] = function(v) return v == 5 end,
          ["raises"] = function(v) error("boom") end,
          ["literal"] = true,
        }, { kind = "unit" })
        if all then error("check should have failed") end
      end)
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  auto delta = runtime_->registry().take_delta();
  auto* five = find_series(delta, "checks", {{"check", "is five"}, {"group", "::login"}, {"kind", "unit"},
                                             {"scenario", "default"}});
  ASSERT_NE(five, nullptr);
  EXPECT_EQ(five->sink.rate().passes, 1u);
  EXPECT_EQ(five->sink.rate().total, 1u);
  auto* raises = find_series(delta, "checks", {{"check", "raises"}, {"group", "::login"}});
  ASSERT_NE(raises, nullptr);
  EXPECT_EQ(raises->sink.rate().passes, 0u);
  EXPECT_EQ(raises->sink.rate().total, 1u);
  auto* literal = find_series(delta, "checks", {{"check", "literal"}});
  ASSERT_NE(literal, nullptr);
  EXPECT_EQ(literal->sink.rate().passes, 1u);
}

TEST_F(RuntimeTest, NestedGroupsRecordGroupDurationWithTheirFullPath) {
  load(R"(
    local ll = require("luaload")
    function default()
      local a, b = ll.group("outer", function()
        return ll.group("inner", function() return 1, 2 end)
      end)
      if a ~= 1 or b ~= 2 then error("group results not returned") end
      ll.check(true, { top = true })
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  auto delta = runtime_->registry().take_delta();
  auto* outer = find_series(delta, "group_duration", {{"group", "::outer"}});
  auto* inner = find_series(delta, "group_duration", {{"group", "::outer::inner"}});
  ASSERT_NE(outer, nullptr);
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(outer->sink.trend().count(), 1u);
  EXPECT_EQ(inner->sink.trend().count(), 1u);
  EXPECT_NE(find_series(delta, "checks", {{"check", "top"}, {"group", ""}}), nullptr);
}

TEST_F(RuntimeTest, ErrorInsideGroupKeepsTheTracebackOfItsOrigin) {
  load("local ll = require('luaload')\nfunction default()\n  ll.group('g', function()\n    error('deep')\n  end)\nend\n");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Failed);
  auto errors = runtime_->take_script_errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "script.lua:4: deep");
  EXPECT_NE(errors[0].traceback.find("script.lua:4"), std::string::npos);
}

TEST_F(RuntimeTest, OsExitIsAScriptErrorInsteadOfEndingTheProcess) {
  load(R"(
    function default() os.exit(3) end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Failed);
  auto errors = runtime_->take_script_errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "script.lua:2: os.exit is not available in luaload scripts: use ll.abort(message)");
}

TEST_F(RuntimeTest, ErrorObjectsAreReportedByTheirContentSoEqualOnesCountTogether) {
  load(R"(
    function default() error({ code = 7 }) end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Failed);
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Failed);
  auto errors = runtime_->take_script_errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "error object {\"code\":7}");
  EXPECT_EQ(errors[0].count, 2u);
}

TEST_F(RuntimeTest, AHugeErrorMessageIsCutSoTheReportStaysSmall) {
  load(R"(
    function default() error(string.rep("x", 1000000), 0) end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Failed);
  auto errors = runtime_->take_script_errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, std::string(1000, 'x') + "... (1000000 bytes)");
  EXPECT_LE(errors[0].traceback.size(), 5000u);
}

TEST_F(RuntimeTest, CustomMetricsRecordIntoTheWorkerRegistry) {
  load(R"(
    local ll = require("luaload")
    local waits = ll.metrics.Trend("queue_wait", true)
    local hits = ll.metrics.Counter("cache_hits")
    local ok = ll.metrics.Rate("ok_rate")
    function default()
      waits:add(12.5, { queue = "a" })
      hits:add(3)
      ok:add(true)
      ok:add(false)
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  auto delta = runtime_->registry().take_delta();
  auto* waits = find_series(delta, "queue_wait", {{"queue", "a"}});
  ASSERT_NE(waits, nullptr);
  EXPECT_EQ(waits->sink.trend().count(), 1u);
  auto* hits = find_series(delta, "cache_hits", {});
  ASSERT_NE(hits, nullptr);
  EXPECT_EQ(hits->sink.counter().sum, 3.0);
  auto* ok = find_series(delta, "ok_rate", {});
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->sink.rate().passes, 1u);
  EXPECT_EQ(ok->sink.rate().total, 2u);
}

TEST_F(RuntimeTest, InvalidMetricNameIsAScriptError) {
  load("local ll = require('luaload')\nll.metrics.Counter('bad name!')\nfunction default() end\n");
  std::string error;
  EXPECT_EQ(runtime_->create_vu(1, &error), nullptr);
  EXPECT_NE(error.find("ll.metrics:"), std::string::npos) << error;
}

TEST_F(RuntimeTest, JsonEncodesDecodesAndHasAnExplicitNull) {
  load(R"(
    local ll = require("luaload")
    function default()
      local t = ll.json.decode('{"a":[1,2,3],"b":null,"s":"x"}')
      if t.a[3] ~= 3 or t.b ~= ll.json.null or t.s ~= "x" then error("decode") end
      if ll.json.encode({ n = ll.json.null }) ~= '{"n":null}' then error("encode null") end
      if ll.json.encode({}) ~= '{}' then error("empty table") end
      local sparse = ll.json.decode(ll.json.encode({ [1] = 1, [50] = 2 }))
      if sparse["50"] ~= 2 then error("sparse array") end
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  auto errors = runtime_->take_script_errors();
  EXPECT_TRUE(errors.empty()) << errors[0].traceback;
}

TEST_F(RuntimeTest, EnvComesFromConfigThenProcessEnvironment) {
  setenv("LUALOAD_BINDINGS_TEST_VAR", "from-process", 1);
  RuntimeConfig config;
  config.env["BASE_URL"] = "http://127.0.0.1:9";
  load(R"(
    local ll = require("luaload")
    function default()
      if ll.env.BASE_URL ~= "http://127.0.0.1:9" then error("config env") end
      if ll.env.LUALOAD_BINDINGS_TEST_VAR ~= "from-process" then error("process env") end
      if ll.env.LUALOAD_SURELY_UNSET_VARIABLE ~= nil then error("unset") end
    end
  )", config);
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  auto errors = runtime_->take_script_errors();
  EXPECT_TRUE(errors.empty()) << errors[0].traceback;
}

}  // namespace
}  // namespace luaload::bindings::test
