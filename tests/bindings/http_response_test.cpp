// SPDX-License-Identifier: MIT
// The per-request fast path of http.*: one reused Request per worker, a flat luaload.Response, completions that
// find their VU by key and request id, and tasks sharing their VU's client.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "bindings/runtime_fixture.hpp"
#include "support/misbehaving_server.hpp"

namespace luaload::bindings::test {
namespace {

using luaload::test::Reply;

using HttpResponseTest = RuntimeTest;

Reply silent() {
  Reply reply;
  reply.action = Reply::Action::NeverAnswer;
  return reply;
}

std::string many_headers(int count) {
  std::string headers;
  for (int i = 0; i < count; ++i) headers += "X-N-" + std::to_string(i) + ": v" + std::to_string(i) + "\r\n";
  return headers;
}

TEST_F(HttpResponseTest, AResponseWithManyRepeatedAndEmptyHeadersAndNoBodyReadsBackExactly) {
  serve({respond(200, "", many_headers(300) + "Set-Cookie: a=1\r\nX-Empty:\r\nSet-Cookie: b=2\r\n" +
                              "Set-Cookie: c=3\r\nX-Spaces:   padded   \r\n")},
        R"lua(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local res = http.get(ll.env.URL)
      assert(res.status == 200, "status")
      assert(res.body == "", "empty body: " .. tostring(res.body))
      assert(res.body == res.body, "body cached")
      local h = res.headers
      assert(h == res.headers, "headers table cached")
      assert(h["X-N-0"] == "v0" and h["x-n-299"] == "v299" and h["X-N-150"] == "v150", "numbered headers")
      assert(h["set-cookie"] == "a=1, b=2, c=3", "repeated: " .. tostring(h["set-cookie"]))
      assert(h["X-Empty"] == "", "empty value: " .. tostring(h["X-Empty"]))
      assert(h["X-Spaces"] == "padded", "trimmed: [" .. tostring(h["X-Spaces"]) .. "]")
      assert(h["Content-Length"] == "0", "content-length")
      assert(tostring(res) == "luaload.Response(200 " .. ll.env.URL .. ")", tostring(res))
      assert(res.error == nil and res.error_code == 0 and res.tls_version == nil, "no error, no tls")
      assert(res.method == "GET" and res.url == ll.env.URL and res.proto == "HTTP/1.1", "record strings")
      assert(res.nonexistent == nil and res[1] == nil, "unknown keys")
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(HttpResponseTest, AFailedRequestAfterASuccessfulOneShowsNoneOfItsHeadersOrBody) {
  Reply close_mid_body;
  close_mid_body.bytes = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-Partial: yes\r\n\r\nshort";
  close_mid_body.close_after = true;
  serve({respond(200, "first", "X-First: 1\r\n"), close_mid_body}, R"lua(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local first = http.get(ll.env.URL)
      local second = http.get(ll.env.URL)
      assert(first.status == 200 and first.body == "first" and first.headers["X-First"] == "1", "first intact")
      assert(second.status == 0 and second.error_code ~= 0, "second failed: " .. tostring(second.status))
      assert(second.headers["X-First"] == nil, "no header of the first response")
      assert(second.body ~= "first", "no body of the first response")
      assert(tostring(second) == "luaload.Response(0 " .. ll.env.URL .. ")", tostring(second))
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
}

TEST_F(HttpResponseTest, ARequestAfterOneRefusedWhileBeingBuiltCarriesNothingOfIt) {
  serve({respond(200, "ok")}, R"lua(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      -- Refused part-way through filling the worker's reused request: whatever was filled must not leak.
      local ok = pcall(http.post, ll.env.URL, "leaked body",
                       { headers = { ["X-Leak"] = "1", ["X-Leak-2"] = "2", ["Bad Name"] = "x" } })
      assert(not ok, "refused")
      ok = pcall(http.get, ll.env.URL, { headers = { ["X-Leak-3"] = "3" }, timeout = "soon" })
      assert(not ok, "refused")
      local res = http.get(ll.env.URL)
      assert(res.status == 200, "status")
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  EXPECT_EQ(server_->requests(), 1u);
  const std::string& head = server_->last_request_head();
  EXPECT_EQ(head.rfind("GET / HTTP/1.1\r\n", 0), 0u) << head;
  EXPECT_EQ(head.find("X-Leak"), std::string::npos) << head;
  EXPECT_EQ(server_->last_request_body_bytes(), 0u);
}

TEST_F(HttpResponseTest, ABigBodyHandedOverAndASmallOneCopiedAfterItBothGoOutWhole) {
  serve({respond(200, "ok")}, R"lua(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      assert(http.post(ll.env.URL, string.rep("b", 100000)).status == 200, "big")
      assert(http.post(ll.env.URL, "small", { headers = { ["X-After"] = "1" } }).status == 200, "small")
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  EXPECT_EQ(server_->requests(), 2u);
  EXPECT_EQ(server_->last_request_body_bytes(), 5u);
  const std::string& head = server_->last_request_head();
  EXPECT_NE(head.find("Content-Length: 5\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("X-After: 1\r\n"), std::string::npos) << head;
}

TEST_F(HttpResponseTest, AVuAndItsTaskWithRequestsInFlightTogetherEachGetTheirOwnResponse) {
  serve({respond(200, "same")}, R"lua(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local task = ll.spawn(function()
        local r = http.get(ll.env.URL .. "task")
        return r.status, r.url
      end)
      local mine = http.get(ll.env.URL .. "vu")
      local status, url = task:wait()
      assert(mine.status == 200 and mine.url == ll.env.URL .. "vu", "vu: " .. mine.url)
      assert(status == 200 and url == ll.env.URL .. "task", "task: " .. tostring(url))
    end
  )lua");
  EXPECT_EQ(run_one(vu(1)), IterationOutcome::Completed);
  expect_no_script_errors();
  auto delta = runtime_->registry().take_delta();
  auto* reqs = find_series(delta, "http_reqs", {{"name", server_->url("/task")}});
  ASSERT_NE(reqs, nullptr);
  EXPECT_EQ(reqs->sink.counter().sum, 1.0);
}

TEST_F(HttpResponseTest, AnInterruptedRequestsLateCancellationDoesNotAnswerTheNextIterationsRequest) {
  serve({silent(), respond(201, "second")}, R"lua(
    local http = require("luaload.http")
    local ll = require("luaload")
    function default()
      local res = http.get(ll.env.URL)
      assert(res.status == 201 and res.body == "second", "got " .. tostring(res.status) .. " " .. tostring(res.error))
    end
  )lua");
  VuBody& body = vu(1);
  auto first = start(body);
  ASSERT_TRUE(luaload::test::run_until(&loop_, [&] { return server_->requests() == 1; }));
  body.interrupt();
  // The next iteration starts at once, before the cancelled request's completion has come back from the loop.
  auto second = start(body, 1);
  ASSERT_TRUE(luaload::test::run_until(&loop_, [&] { return first->has_value() && second->has_value(); }));
  EXPECT_EQ(*first, IterationOutcome::Interrupted);
  EXPECT_EQ(*second, IterationOutcome::Completed);
  expect_no_script_errors();
  auto delta = runtime_->registry().take_delta();
  auto* reqs = find_series(delta, "http_reqs", {});
  ASSERT_NE(reqs, nullptr);
  EXPECT_EQ(reqs->sink.counter().sum, 1.0);
}

}  // namespace
}  // namespace luaload::bindings::test
