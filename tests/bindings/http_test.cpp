// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <memory>

#include "bindings/runtime_fixture.hpp"
#include "support/misbehaving_server.hpp"

namespace luaload::bindings::test {
namespace {

using luaload::test::Reply;

using HttpTest = RuntimeTest;

TEST_F(HttpTest, ResponseExposesStatusBodyAndCaseInsensitiveHeaders) {
  serve({respond(200, "hello", "Content-Type: text/plain\r\nX-Two: a\r\nX-Two: b\r\n")}, R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local res = http.get(ll.env.URL)
      assert(res.status == 200, "status " .. tostring(res.status))
      assert(res.body == "hello", "body")
      assert(res.headers["content-type"] == "text/plain", "lower-case lookup")
      assert(res.headers["CONTENT-TYPE"] == "text/plain", "upper-case lookup")
      assert(res.headers["X-Two"] == "a, b", "repeated header: " .. tostring(res.headers["X-Two"]))
      assert(res.error == nil and res.error_code == 0, "no error")
      assert(res.url == ll.env.URL, "url")
      assert(res.proto == "HTTP/1.1", "proto")
      assert(res.timings.duration >= 0 and res.timings.waiting >= 0, "timings")
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(HttpTest, JsonMethodDecodesTheBodyAndExplainsInvalidJson) {
  serve({respond(200, R"({"token":"abc"})"), respond(200, "not json")}, R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      assert(http.get(ll.env.URL):json().token == "abc", "decoded")
      local ok, err = pcall(function() return http.get(ll.env.URL):json() end)
      assert(not ok and err:find("res:json%(%): the response body is not valid JSON"), tostring(err))
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(HttpTest, PostWithJsonParamSendsBodyAndContentType) {
  serve({respond(201, "")}, R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local res = http.post(ll.env.URL, nil, { json = { user = "u1" }, headers = { ["X-Test"] = "1" } })
      assert(res.status == 201, "status")
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  const std::string& head = server_->last_request_head();
  EXPECT_EQ(head.rfind("POST / HTTP/1.1\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Type: application/json\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Test: 1\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("User-Agent: luaload/0.1\r\n"), std::string::npos) << head;
  EXPECT_EQ(server_->last_request_body_bytes(), std::string(R"({"user":"u1"})").size());
}

TEST_F(HttpTest, FormParamIsUrlEncodedInKeyOrder) {
  serve({respond(200, "")}, R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default() http.put(ll.env.URL, nil, { form = { b = "x y", a = 1 } }) end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  const std::string& head = server_->last_request_head();
  EXPECT_EQ(head.rfind("PUT / HTTP/1.1\r\n", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Type: application/x-www-form-urlencoded\r\n"), std::string::npos) << head;
  EXPECT_EQ(server_->last_request_body_bytes(), std::string("a=1&b=x%20y").size());
}

TEST_F(HttpTest, RequestMetricsCarryK6Tags) {
  serve({respond(404, "nope")}, R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      ll.group("api", function()
        http.get(ll.env.URL, { tags = { name = "home", team = "qa" } })
      end)
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  auto delta = runtime_->registry().take_delta();
  const engine::metrics::Tags tags = {{"method", "GET"},   {"name", "home"},      {"status", "404"},
                                      {"group", "::api"},  {"scenario", "default"}, {"expected_response", "false"},
                                      {"team", "qa"}};
  auto* reqs = find_series(delta, "http_reqs", tags);
  ASSERT_NE(reqs, nullptr);
  EXPECT_EQ(reqs->sink.counter().sum, 1.0);
  EXPECT_EQ(reqs->tags.size(), tags.size());
  auto* failed = find_series(delta, "http_req_failed", tags);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->sink.rate().passes, 1u);
  auto* duration = find_series(delta, "http_req_duration", tags);
  ASSERT_NE(duration, nullptr);
  EXPECT_EQ(duration->sink.trend().count(), 1u);
  auto* received = find_series(delta, "data_received", tags);
  ASSERT_NE(received, nullptr);
  EXPECT_GT(received->sink.counter().sum, 0.0);
}

TEST_F(HttpTest, ConnectionRefusedGivesStatusZeroAndErrorCode) {
  const uint16_t port = luaload::test::unused_port();
  RuntimeConfig config;
  config.env["URL"] = "http://127.0.0.1:" + std::to_string(port) + "/";
  load(R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local res = http.get(ll.env.URL)
      assert(res.status == 0, "status " .. tostring(res.status))
      assert(res.error_code == 1212, "error_code " .. tostring(res.error_code))
      assert(type(res.error) == "string" and #res.error > 0, "error message")
    end
  )", config);
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  auto errors = runtime_->take_script_errors();
  EXPECT_TRUE(errors.empty()) << errors[0].traceback;
  auto delta = runtime_->registry().take_delta();
  auto* failed = find_series(delta, "http_req_failed", {{"status", "0"}, {"error_code", "1212"}});
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->sink.rate().passes, 1u);
}

TEST_F(HttpTest, HttpInsideUserCoroutineWorks) {
  serve({respond(200, "co")}, R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local fetch = coroutine.wrap(function() return http.get(ll.env.URL).body end)
      assert(fetch() == "co")
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(HttpTest, HeadersThatWouldSplitTheRequestAreRefusedWithAClearError) {
  serve({respond(200, "never")}, R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local ok, err = pcall(http.get, ll.env.URL, { headers = { ["X-Id"] = "1\r\nX-Injected: yes" } })
      assert(not ok and err:find("http.get: the value of header 'X-Id' contains CR, LF or NUL", 1, true), err)
      ok, err = pcall(http.get, ll.env.URL, { headers = { ["Bad Name"] = "1" } })
      assert(not ok and err:find("http.get: invalid header name 'Bad Name'", 1, true), err)
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  EXPECT_EQ(server_->requests(), 0u);
}

TEST_F(HttpTest, AMethodThatIsNotATokenIsRefusedBeforeAnythingIsSent) {
  serve({respond(200, "never")}, R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local ok, err = pcall(http.request, "GET /smuggled HTTP/1.1\r\nX-Evil: 1\r\n\r\nGET", ll.env.URL)
      assert(not ok and err:find("http.request: invalid method", 1, true), err)
      ok, err = pcall(http.request, "", ll.env.URL)
      assert(not ok and err:find("http.request: invalid method ''", 1, true), err)
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  EXPECT_EQ(server_->requests(), 0u);
}

TEST_F(HttpTest, ATimeoutThatIsNegativeNotANumberOrBeyondAYearIsRefused) {
  serve({respond(200, "never")}, R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      for _, timeout in ipairs({ -1, 0/0, 1/0, 1e308, "99999999h" }) do
        local ok, err = pcall(http.get, ll.env.URL, { timeout = timeout })
        assert(not ok and err:find("http.get: invalid timeout", 1, true), tostring(timeout) .. ": " .. tostring(err))
      end
    end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  EXPECT_EQ(server_->requests(), 0u);
}

TEST_F(HttpTest, InterruptCancelsAPendingRequest) {
  Reply silent;
  silent.action = Reply::Action::NeverAnswer;
  serve({silent}, R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default() http.get(ll.env.URL) end
  )");
  VuBody& body = vu(1);
  auto outcome = start(body);
  EXPECT_TRUE(luaload::test::run_until(&loop_, [&] { return server_->requests() == 1; }));
  body.interrupt();
  EXPECT_TRUE(luaload::test::run_until(&loop_, [&] { return outcome->has_value(); }));
  EXPECT_EQ(*outcome, IterationOutcome::Interrupted);
  auto delta = runtime_->registry().take_delta();
  EXPECT_EQ(find_series(delta, "http_reqs", {}), nullptr);
}

TEST_F(HttpTest, BadParamsRaiseAScriptError) {
  serve({respond(200, "")}, R"(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default() http.get(ll.env.URL, { timeout = "soon" }) end
  )");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Failed);
  auto errors = runtime_->take_script_errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message,
            R"(script.lua:4: http.get: invalid timeout "soon" (use seconds or a duration like "5s", "500ms"))");
}

}  // namespace
}  // namespace luaload::bindings::test
