// SPDX-License-Identifier: MIT
// k6's expected-statuses rule: params.expected_statuses, http.expected_statuses() and http.set_expected_statuses()
// decide what http_req_failed and the expected_response tag say, for every hop and for streams too.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <utility>

#include "bindings/runtime_fixture.hpp"
#include "support/misbehaving_server.hpp"

namespace luaload::bindings::test {
namespace {

using engine::metrics::Tags;
using luaload::test::Reply;

class HttpExpectedTest : public RuntimeTest {
 public:
  struct Failed {
    uint64_t failed = 0, total = 0;
    bool operator==(const Failed&) const = default;
  };

 protected:

  // http_req_failed summed over every series whose tags include `tags`.
  static Failed failed_of(const engine::metrics::Delta& delta, const Tags& tags) {
    Failed sum;
    for (const auto& series : delta.series) {
      if (series.metric != "http_req_failed" || !has_tags(series.tags, tags)) continue;
      sum.failed += series.sink.rate().passes;
      sum.total += series.sink.rate().total;
    }
    return sum;
  }

  static bool has_tags(const Tags& have, const Tags& want) {
    for (const auto& tag : want) {
      if (std::find(have.begin(), have.end(), tag) == have.end()) return false;
    }
    return true;
  }

  static Reply redirect(const std::string& location) {
    return respond(302, "", "Location: " + location + "\r\n");
  }
};

std::ostream& operator<<(std::ostream& out, const HttpExpectedTest::Failed& f) {
  return out << f.failed << " failed of " << f.total;
}

TEST_F(HttpExpectedTest, TheListReplacesTheDefaultRuleForThatRequestOnly) {
  serve({respond(404, ""), respond(200, ""), respond(404, "")}, R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      http.get(ll.env.URL, { expected_statuses = { 404 }, tags = { name = "a" } })
      http.get(ll.env.URL, { expected_statuses = { 404 }, tags = { name = "b" } })
      http.get(ll.env.URL, { tags = { name = "c" } })
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  auto delta = runtime_->registry().take_delta();
  EXPECT_EQ(failed_of(delta, {{"name", "a"}, {"status", "404"}, {"expected_response", "true"}}), (Failed{0, 1}));
  EXPECT_EQ(failed_of(delta, {{"name", "b"}, {"status", "200"}, {"expected_response", "false"}}), (Failed{1, 1}));
  EXPECT_EQ(failed_of(delta, {{"name", "c"}, {"status", "404"}, {"expected_response", "false"}}), (Failed{1, 1}));
}

TEST_F(HttpExpectedTest, RangesIncludeBothEndsAndNothingOutside) {
  serve({respond(500, ""), respond(599, ""), respond(499, ""), respond(600, ""), respond(201, "")}, R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    local expected = http.expected_statuses(201, { min = 500, max = 599 })
    function default()
      for _ = 1, 5 do http.get(ll.env.URL, { expected_statuses = expected }) end
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  auto delta = runtime_->registry().take_delta();
  EXPECT_EQ(failed_of(delta, {{"status", "500"}}), (Failed{0, 1}));
  EXPECT_EQ(failed_of(delta, {{"status", "599"}}), (Failed{0, 1}));
  EXPECT_EQ(failed_of(delta, {{"status", "499"}}), (Failed{1, 1}));
  EXPECT_EQ(failed_of(delta, {{"status", "600"}}), (Failed{1, 1}));
  EXPECT_EQ(failed_of(delta, {{"status", "201"}}), (Failed{0, 1}));
}

TEST_F(HttpExpectedTest, ANetworkFailureCountsAsFailedWhateverTheList) {
  const uint16_t port = luaload::test::unused_port();
  RuntimeConfig config;
  config.env["URL"] = "http://127.0.0.1:" + std::to_string(port) + "/";
  load(R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local res = http.get(ll.env.URL, { expected_statuses = { { min = 100, max = 999 } } })
      assert(res.status == 0 and res.error_code == 1212, "refused: " .. tostring(res.error_code))
    end
  )", config);
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  auto delta = runtime_->registry().take_delta();
  EXPECT_EQ(failed_of(delta, {{"status", "0"}, {"expected_response", "false"}}), (Failed{1, 1}));
}

TEST_F(HttpExpectedTest, EveryRedirectHopIsJudgedByTheSameRule) {
  serve({redirect("/final"), respond(200, ""), redirect("/final"), respond(200, "")}, R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      http.get(ll.env.URL, { expected_statuses = { 200 }, tags = { name = "only200" } })
      http.get(ll.env.URL, { tags = { name = "default" } })
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  auto delta = runtime_->registry().take_delta();
  // As in k6: a 302 hop is a failure when only 200 is expected, and is not by default (200-399).
  EXPECT_EQ(failed_of(delta, {{"name", "only200"}, {"status", "302"}, {"expected_response", "false"}}),
            (Failed{1, 1}));
  EXPECT_EQ(failed_of(delta, {{"name", "only200"}, {"status", "200"}, {"expected_response", "true"}}),
            (Failed{0, 1}));
  EXPECT_EQ(failed_of(delta, {{"name", "default"}, {"status", "302"}, {"expected_response", "true"}}),
            (Failed{0, 1}));
  EXPECT_EQ(failed_of(delta, {{"name", "default"}}), (Failed{0, 2}));
}

TEST_F(HttpExpectedTest, StreamsAndTheirRedirectHopsAreJudgedByTheRule) {
  serve({redirect("/next"), respond(404, "gone"), respond(404, "gone")}, R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local a = http.stream("GET", ll.env.URL, nil, { expected_statuses = { 404 }, tags = { name = "a" } })
      assert(a.status == 404 and a:read() == "gone", "stream a")
      assert(a:read() == nil)
      local b = http.sse(ll.env.URL, { tags = { name = "b" } })
      assert(b.status == 404, "stream b")
      b:close()
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  auto delta = runtime_->registry().take_delta();
  EXPECT_EQ(failed_of(delta, {{"name", "a"}, {"status", "302"}, {"expected_response", "false"}}), (Failed{1, 1}));
  EXPECT_EQ(failed_of(delta, {{"name", "a"}, {"status", "404"}, {"expected_response", "true"}}), (Failed{0, 1}));
  EXPECT_EQ(failed_of(delta, {{"name", "b"}, {"status", "404"}, {"expected_response", "false"}}), (Failed{1, 1}));
  // The stream_* samples carry the same verdict as the request's.
  EXPECT_NE(find_series(delta, "stream_duration", {{"name", "a"}, {"expected_response", "true"}}), nullptr);
  EXPECT_NE(find_series(delta, "stream_duration", {{"name", "b"}, {"expected_response", "false"}}), nullptr);
}

TEST_F(HttpExpectedTest, TheVuDefaultAppliesToItsRequestsAndTasksUntilResetAndAParamOverridesIt) {
  std::vector<Reply> replies(6, respond(404, ""));
  serve(std::move(replies), R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    if ll.vu.id == 1 then http.set_expected_statuses(http.expected_statuses(404)) end
    function default()
      http.get(ll.env.URL, { tags = { name = "vu" .. ll.vu.id } })
      if ll.vu.id == 1 then
        ll.spawn(function() http.get(ll.env.URL, { tags = { name = "task" } }) end):wait()
        http.get(ll.env.URL, { tags = { name = "param" }, expected_statuses = { 200 } })
        http.set_expected_statuses(nil)
        http.get(ll.env.URL, { tags = { name = "reset" } })
      end
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  EXPECT_EQ(run_one(vu(2)), IterationOutcome::Completed);
  expect_no_script_errors();
  auto delta = runtime_->registry().take_delta();
  EXPECT_EQ(failed_of(delta, {{"name", "vu1"}, {"expected_response", "true"}}), (Failed{0, 1}));
  EXPECT_EQ(failed_of(delta, {{"name", "task"}, {"expected_response", "true"}}), (Failed{0, 1}));
  EXPECT_EQ(failed_of(delta, {{"name", "param"}, {"expected_response", "false"}}), (Failed{1, 1}));
  EXPECT_EQ(failed_of(delta, {{"name", "reset"}, {"expected_response", "false"}}), (Failed{1, 1}));
  // Per VU: the second VU never set a default.
  EXPECT_EQ(failed_of(delta, {{"name", "vu2"}, {"expected_response", "false"}}), (Failed{1, 1}));
}

TEST_F(HttpExpectedTest, BadShapesRaiseOnTheCallersLineBeforeAnythingIsSent) {
  serve({respond(200, "")}, R"lua(
    local http = require("luaload.http")
    local ll = require("luaload")
    local P = "http.get: params.expected_statuses"
    local cases = {
      { 404, P .. " must be a list of status codes and { min =, max = } ranges, not a number" },
      { {}, P .. " is empty: every response would count as failed" },
      { { min = 200, max = 299 }, P .. " is a single range: put it in a list" },
      { { 200, x = 1 }, P .. " must be a list, but has the key x" },
      { { 200, 99 }, P .. "[2]: 99 is not a status code (an integer from 100 to 999)" },
      { { 200.5 }, P .. "[1]: 200.5 is not a status code" },
      { { "200" }, P .. "[1]: must be a status code or a { min =, max = } range, not a string" },
      { { { min = 500 } }, P .. "[1]: a range needs min and max" },
      { { { min = 599, max = 500 } }, P .. "[1]: the range's min 599 is above its max 500" },
      { { { min = 500, max = 599, step = 1 } }, P .. "[1]: unknown key step in a range" },
    }
    -- fn, written on one line, must raise `message` naming that line.
    local function raises(message, fn)
      local ok, err = pcall(fn)
      local want = "script.lua:" .. debug.getinfo(fn, "S").linedefined .. ": " .. message
      assert(not ok and err:sub(1, #want) == want, "got: " .. tostring(err) .. "\nwant: " .. want)
    end
    function default()
      for _, case in ipairs(cases) do
        raises(case[2], function() http.get(ll.env.URL, { expected_statuses = case[1] }) end)
      end
      raises("http.stream: params.expected_statuses is empty",
        function() http.stream("GET", ll.env.URL, nil, { expected_statuses = {} }) end)
      raises("http.sse: params.expected_statuses[1]: 0 is not a status code",
        function() http.sse(ll.env.URL, { expected_statuses = { 0 } }) end)
      raises("http.expected_statuses: argument 2 is nil", function() http.expected_statuses(200, nil) end)
      raises("http.expected_statuses: argument 2: a range needs min and max",
        function() http.expected_statuses(200, { min = 1, max = 5 }) end)
      raises("http.expected_statuses: the list is empty", function() http.expected_statuses() end)
      raises("http.set_expected_statuses: item 1: 1000 is not a status code",
        function() http.set_expected_statuses({ 1000 }) end)
      assert(http.get(ll.env.URL).status == 200, "the request after the mistakes goes out")
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  EXPECT_EQ(server_->requests(), 1u);
}

TEST_F(HttpExpectedTest, ExpectedStatusesReturnsItsArgumentsAsAList) {
  load(R"(
    local http = require("luaload.http")
    local list = http.expected_statuses(200, 404, { min = 500, max = 599 })
    assert(#list == 3 and list[1] == 200 and list[2] == 404, "codes")
    assert(list[3].min == 500 and list[3].max == 599, "range")
    function default() end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

}  // namespace
}  // namespace luaload::bindings::test
