// SPDX-License-Identifier: MIT
// The client's success paths against the local scripted server.
#include "engine/http/client.hpp"

#include <chrono>
#include <thread>

#include "client_fixture.hpp"

namespace luaload::engine::http {
namespace {

using test::http_response;
using test::Reply;

class ClientTest : public ClientFixture {};

TEST_F(ClientTest, GetReturnsStatusHeadersAndContentLengthBody) {
  auto& srv = server({{.bytes = http_response(200, "hello", "X-Served-By: test\r\n")}});
  Response response = get(srv.url("/path?q=1"));
  EXPECT_EQ(response.final.status, 200);
  EXPECT_EQ(response.final.error_code, ErrorCode::None);
  EXPECT_EQ(response.body, "hello");
  ASSERT_TRUE(response.headers.find("x-served-by"));
  EXPECT_EQ(*response.headers.find("x-served-by"), "test");
  EXPECT_EQ(response.final.method, "GET");
  EXPECT_EQ(response.final.url, srv.url("/path?q=1"));
  EXPECT_EQ(srv.last_request_head().rfind("GET /path?q=1 HTTP/1.1\r\n", 0), 0u);
  EXPECT_TRUE(response.tls_version.empty());
}

TEST_F(ClientTest, ChunkedResponseBodyIsDecoded) {
  auto& srv = server({{.bytes = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n"}});
  Response response = get(srv.url());
  EXPECT_EQ(response.final.status, 200);
  EXPECT_EQ(response.body, "wikipedia");
}

TEST_F(ClientTest, CloseDelimitedBodyEndsAtEof) {
  auto& srv = server({{.bytes = "HTTP/1.1 200 OK\r\n\r\nuntil close", .close_after = true}});
  Response response = get(srv.url());
  EXPECT_EQ(response.final.status, 200);
  EXPECT_EQ(response.body, "until close");
  settle();
  EXPECT_EQ(client().open_connections(), 0u);
}

TEST_F(ClientTest, KeepAliveReusesOneConnectionForSequentialRequests) {
  auto& srv = server({{.bytes = http_response(200, "a")}});
  EXPECT_EQ(get(srv.url("/1")).final.status, 200);
  EXPECT_EQ(get(srv.url("/2")).final.status, 200);
  EXPECT_EQ(get(srv.url("/3")).final.status, 200);
  EXPECT_EQ(srv.accepts(), 1u);
  EXPECT_EQ(srv.requests(), 3u);
  EXPECT_EQ(client().open_connections(), 1u);
}

TEST_F(ClientTest, SendingEndsWhenTheSocketTookTheRequestNotWhenTheLoopNextGetsToIt) {
  auto& srv = server({{.bytes = http_response(200, "a")}});
  ASSERT_EQ(get(srv.url("/warm")).final.status, 200);  // the next request goes out on this connection at once
  Response result;
  bool done = false;
  Request timed;
  timed.url = srv.url("/timed");
  client().send(std::move(timed), [&](Response&& response) {
    result = std::move(response);
    done = true;
  });
  // Other work holds the loop for 50 ms before libuv reports the finished write.
  uv_timer_t busy;
  uv_timer_init(&loop_, &busy);
  uv_timer_start(&busy, [](uv_timer_t*) { std::this_thread::sleep_for(std::chrono::milliseconds(50)); }, 0, 0);
  EXPECT_TRUE(test::run_until(&loop_, [&] { return done; }));
  bool closed = false;
  busy.data = &closed;
  uv_close(reinterpret_cast<uv_handle_t*>(&busy), [](uv_handle_t* h) { *static_cast<bool*>(h->data) = true; });
  EXPECT_TRUE(test::run_until(&loop_, [&] { return closed; }));
  EXPECT_EQ(result.final.status, 200);
  EXPECT_LT(result.final.timing.sending_ms, 25.0);
  EXPECT_GE(result.final.timing.duration_ms, 50.0);
}

TEST_F(ClientTest, AResponseArrivingInSeveralReadsLeavesAReusableConnection) {
  auto& srv = server({{.bytes = http_response(200, std::string(40, 'a')), .drip_bytes = 16, .drip_interval_ms = 2}});
  EXPECT_EQ(get(srv.url("/1")).body, std::string(40, 'a'));
  EXPECT_EQ(get(srv.url("/2")).body, std::string(40, 'a'));
  EXPECT_EQ(srv.accepts(), 1u);
}

TEST_F(ClientTest, ConnectionCloseResponseIsNotReused) {
  auto& srv = server({{.bytes = http_response(200, "a", "Connection: close\r\n")}});
  EXPECT_EQ(get(srv.url()).final.status, 200);
  EXPECT_EQ(get(srv.url()).final.status, 200);
  EXPECT_EQ(srv.accepts(), 2u);
}

TEST_F(ClientTest, ConcurrentRequestsToOneOriginUseTwoConnections) {
  auto& srv = server({{.bytes = http_response(200, "a")}});
  int done = 0;
  Request request;
  request.url = srv.url();
  client().send(request, [&](Response&& r) { done += r.final.status == 200; });
  client().send(request, [&](Response&& r) { done += r.final.status == 200; });
  ASSERT_TRUE(test::run_until(&loop_, [&] { return done == 2; }));
  EXPECT_EQ(srv.accepts(), 2u);
  settle();
  EXPECT_EQ(client().open_connections(), 1u);  // one idle connection is kept per origin
}

TEST_F(ClientTest, ServerClosingAnIdleConnectionIsNoticedAndTheNextRequestReconnects) {
  auto& srv = server({{.bytes = http_response(200, "a"), .close_after = true}});
  EXPECT_EQ(get(srv.url()).final.status, 200);
  settle();
  EXPECT_EQ(client().open_connections(), 0u);
  Response second = get(srv.url());
  EXPECT_EQ(second.final.status, 200);
  EXPECT_EQ(srv.accepts(), 2u);
}

TEST_F(ClientTest, ReusedConnectionClosedBeforeAnsweringIsRetriedOnceOnAFreshOne) {
  auto& srv = server({{.bytes = http_response(200, "first")}, test::close_reply(),
                      {.bytes = http_response(200, "retried")}});
  EXPECT_EQ(get(srv.url()).body, "first");
  Response response = get(srv.url());
  EXPECT_EQ(response.final.status, 200);
  EXPECT_EQ(response.final.error_code, ErrorCode::None);
  EXPECT_EQ(response.body, "retried");
  EXPECT_EQ(srv.accepts(), 2u);
  EXPECT_EQ(srv.requests(), 3u);
}

TEST_F(ClientTest, FreshConnectionClosedBeforeAnsweringIsNotRetried) {
  auto& srv = server({test::close_reply(), {.bytes = http_response(200, "never")}});
  Response response = get(srv.url());
  EXPECT_EQ(response.final.status, 0);
  EXPECT_EQ(response.final.error_code, ErrorCode::ConnectionClosedEarly);
  EXPECT_EQ(srv.requests(), 1u);
}

TEST_F(ClientTest, LargeRequestBodyIsSentCompletely) {
  auto& srv = server({{.bytes = http_response(201, "stored")}});
  Request request;
  request.method = "POST";
  request.url = srv.url("/upload");
  request.body.assign(8 * 1024 * 1024, 'x');
  Response response = fetch(std::move(request));
  EXPECT_EQ(response.final.status, 201);
  EXPECT_EQ(srv.last_request_body_bytes(), 8u * 1024 * 1024);
  EXPECT_NE(srv.last_request_head().find("Content-Length: 8388608\r\n"), std::string::npos);
  EXPECT_EQ(response.final.bytes_sent, 8u * 1024 * 1024 + srv.last_request_head().size());
}

TEST_F(ClientTest, LargeResponseBodyIsReceivedCompletely) {
  std::string body(4 * 1024 * 1024, 'y');
  auto& srv = server({{.bytes = http_response(200, body)}});
  Response response = get(srv.url());
  EXPECT_EQ(response.final.status, 200);
  EXPECT_EQ(response.body.size(), body.size());
  EXPECT_EQ(response.final.bytes_received, http_response(200, body).size());
}

TEST_F(ClientTest, HeadRequestGetsNoBodyAndKeepsTheConnection) {
  auto& srv = server({{.bytes = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"}});
  Request request;
  request.method = "HEAD";
  request.url = srv.url();
  EXPECT_EQ(fetch(request).body, "");
  EXPECT_EQ(fetch(request).final.status, 200);
  EXPECT_EQ(srv.accepts(), 1u);
}

TEST_F(ClientTest, InterimContinueIsSkipped) {
  auto& srv = server({{.bytes = "HTTP/1.1 100 Continue\r\n\r\n" + http_response(200, "after")}});
  Response response = get(srv.url());
  EXPECT_EQ(response.final.status, 200);
  EXPECT_EQ(response.body, "after");
}

TEST_F(ClientTest, TimingPhasesAddUpToTheDuration) {
  auto& srv = server({{.bytes = http_response(200, "slow body"), .drip_bytes = 8, .drip_interval_ms = 20}});
  Response response = get(srv.url());
  const RequestTiming& t = response.final.timing;
  EXPECT_EQ(response.final.status, 200);
  EXPECT_GE(t.receiving_ms, 20.0);
  EXPECT_GT(t.connecting_ms, 0.0);
  EXPECT_EQ(t.tls_handshaking_ms, 0.0);
  EXPECT_DOUBLE_EQ(t.duration_ms, t.sending_ms + t.waiting_ms + t.receiving_ms);
}

TEST_F(ClientTest, LocalhostIsResolvedThroughTheDnsCache) {
  auto& srv = server({{.bytes = http_response(200, "a")}});
  Response response = get("http://localhost:" + std::to_string(srv.port()) + "/");
  EXPECT_EQ(response.final.status, 200);
  EXPECT_EQ(dns_.lookups(), 1u);
}

}  // namespace
}  // namespace luaload::engine::http
