// SPDX-License-Identifier: MIT
// The Client reuses pooled request/response buffers between requests: nothing of one exchange may show through in
// the next, and a request sent from inside a completion must not disturb the response being looked at.
#include <string>

#include "engine/core/clock.hpp"

#include "client_fixture.hpp"

namespace luaload::engine::http {
namespace {

using test::http_response;

class ClientReuseTest : public ClientFixture {};

TEST_F(ClientReuseTest, AResponseOnlyReadByItsCompletionLeavesNothingBehindForTheNext) {
  auto& srv = server({{.bytes = http_response(200, "first body", "X-First: 1\r\nX-Long: " + std::string(300, 'v') +
                                                                    "\r\n")},
                      {.bytes = http_response(404, "b")}});
  Request request;
  request.url = srv.url("/one");
  std::string first_body;
  Client::RequestId first_id = client().send(request, [&](Response&& r) { first_body = r.body; });
  ASSERT_TRUE(test::run_until(&loop_, [&] { return !first_body.empty(); }));
  EXPECT_EQ(first_body, "first body");

  request.url = srv.url("/two");
  int status = 0;
  size_t header_count = 99;
  bool first_header_seen = true;
  std::string body, url;
  uint64_t answered = 0;
  Client::RequestId second_id = client().send(request, [&](Response&& r) {
    status = r.final.status;
    header_count = r.headers.size();
    first_header_seen = r.headers.find("x-first").has_value();
    body = r.body;
    url = r.final.url;
    answered = r.request_id;
  });
  ASSERT_TRUE(test::run_until(&loop_, [&] { return status != 0; }));
  EXPECT_EQ(status, 404);
  EXPECT_FALSE(first_header_seen);
  EXPECT_EQ(header_count, 1u);  // Content-Length only
  EXPECT_EQ(body, "b");
  EXPECT_EQ(url, srv.url("/two"));
  EXPECT_NE(first_id, second_id);
  EXPECT_EQ(answered, second_id);
}

TEST_F(ClientReuseTest, ARequestSentFromInsideACompletionDoesNotTouchTheResponseBeingRead) {
  auto& srv = server({{.bytes = http_response(200, "outer")}, {.bytes = http_response(201, "inner")}});
  Request request;
  request.url = srv.url("/outer");
  std::string outer_after_send;
  int inner_status = 0;
  client().send(request, [&](Response&& outer) {
    Request next;
    next.url = srv.url("/inner");
    client().send(next, [&](Response&& inner) { inner_status = inner.final.status; });
    outer_after_send = std::to_string(outer.final.status) + " " + outer.body + " " + outer.final.url;
  });
  ASSERT_TRUE(test::run_until(&loop_, [&] { return inner_status != 0; }));
  EXPECT_EQ(outer_after_send, "200 outer " + srv.url("/outer"));
  EXPECT_EQ(inner_status, 201);
}

TEST_F(ClientReuseTest, CancellingAFinishedRequestIdIsANoOp) {
  auto& srv = server({{.bytes = http_response(200, "a")}});
  Request request;
  request.url = srv.url();
  int done = 0;
  Client::RequestId id = client().send(request, [&](Response&&) { ++done; });
  ASSERT_TRUE(test::run_until(&loop_, [&] { return done == 1; }));
  // The Op of `id` is free and will carry the next request: the old id must not reach it.
  Client::RequestId next = client().send(request, [&](Response&& r) { done += r.final.status == 200 ? 10 : 100; });
  client().cancel(id);
  client().stop(id);
  ASSERT_TRUE(test::run_until(&loop_, [&] { return done > 1; }));
  EXPECT_EQ(done, 11);
  EXPECT_NE(id, next);
}

// A connection's request-deadline timer is left running between requests: it must still fire on time for a
// shorter deadline, never early for a longer one, and harmlessly on an idle connection.
TEST_F(ClientReuseTest, AShorterTimeoutAfterALongerOneOnTheSameConnectionStillFiresOnTime) {
  auto& srv = server({{.bytes = http_response(200, "a")}, test::silent_reply()});
  Request request;
  request.url = srv.url();
  request.timeout_s = 60;
  ASSERT_EQ(fetch(request).final.status, 200);
  request.timeout_s = 0.1;
  const int64_t start = core::mono_now_ns();
  Response response = fetch(request, 5000);
  EXPECT_EQ(response.final.error_code, ErrorCode::RequestTimeout);
  EXPECT_LT(core::mono_now_ns() - start, 2'000'000'000);
  EXPECT_EQ(srv.accepts(), 1u);
}

TEST_F(ClientReuseTest, ATimerLeftFromAnEarlierShortTimeoutDoesNotCutALongerRequestShort) {
  // The second answer takes ~400 ms to drip in, well past the first request's 100 ms deadline.
  auto& srv = server({{.bytes = http_response(200, "a")},
                      {.bytes = http_response(200, std::string(80, 'z')), .drip_bytes = 10, .drip_interval_ms = 40}});
  Request request;
  request.url = srv.url();
  request.timeout_s = 0.1;
  ASSERT_EQ(fetch(request).final.status, 200);
  request.timeout_s = 10;
  Response response = fetch(request);
  EXPECT_EQ(response.final.error_code, ErrorCode::None) << response.final.error;
  EXPECT_EQ(response.body, std::string(80, 'z'));
  EXPECT_EQ(srv.accepts(), 1u);
}

TEST_F(ClientReuseTest, ATimerFiringOnAnIdleConnectionLeavesItUsable) {
  auto& srv = server({{.bytes = http_response(200, "a")}});
  Request request;
  request.url = srv.url();
  request.timeout_s = 0.05;
  ASSERT_EQ(fetch(request).final.status, 200);
  test::run_until(&loop_, [] { return false; }, 150);  // the 50 ms timer fires while nothing runs
  EXPECT_EQ(client().open_connections(), 1u);
  EXPECT_EQ(fetch(request).final.status, 200);
  EXPECT_EQ(srv.accepts(), 1u);
}

}  // namespace
}  // namespace luaload::engine::http
