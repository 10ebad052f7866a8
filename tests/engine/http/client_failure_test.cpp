// SPDX-License-Identifier: MIT
// Every network and protocol failure is a result: status 0, the k6 error code, no hang, no leaked connection.
#include "engine/http/client.hpp"

#include "client_fixture.hpp"

namespace luaload::engine::http {
namespace {

using test::http_response;
using test::Reply;

class ClientFailureTest : public ClientFixture {
 protected:
  void expect_failure(const Response& response, ErrorCode code) {
    EXPECT_EQ(response.final.status, 0);
    EXPECT_EQ(response.final.error_code, code) << response.final.error;
    EXPECT_FALSE(response.final.error.empty());
    settle();
    EXPECT_EQ(client().open_connections(), 0u);
  }
};

TEST_F(ClientFailureTest, RefusedConnectionIsDialRefused) {
  expect_failure(get("http://127.0.0.1:" + std::to_string(test::unused_port()) + "/"), ErrorCode::TcpDialRefused);
}

TEST_F(ClientFailureTest, ARefusedConnectionsMessageNamesTheAddress) {
  const std::string port = std::to_string(test::unused_port());
  auto response = get("http://127.0.0.1:" + port + "/");
  EXPECT_EQ(response.final.error, "dial tcp 127.0.0.1:" + port + ": connection refused");
  settle();
}

TEST_F(ClientFailureTest, UnknownHostIsNoSuchHost) {
  expect_failure(get("http://no-such-host.invalid/"), ErrorCode::DnsNoSuchHost);
}

TEST_F(ClientFailureTest, UnsupportedSchemeIsInvalidUrl) {
  expect_failure(get("ftp://127.0.0.1/"), ErrorCode::InvalidUrl);
}

TEST_F(ClientFailureTest, ResetBeforeAnsweringIsResetByPeer) {
  auto& srv = server({test::reset_reply()});
  expect_failure(get(srv.url()), ErrorCode::TcpResetByPeer);
}

TEST_F(ClientFailureTest, CloseInTheMiddleOfTheBodyIsClosedEarly) {
  auto& srv = server({{.bytes = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial", .close_after = true}});
  expect_failure(get(srv.url()), ErrorCode::ConnectionClosedEarly);
}

TEST_F(ClientFailureTest, SilentServerTimesOut) {
  auto& srv = server({test::silent_reply()});
  Request request;
  request.url = srv.url();
  request.timeout_s = 0.05;
  Response response = fetch(request);
  expect_failure(response, ErrorCode::RequestTimeout);
  EXPECT_EQ(srv.requests(), 1u);
}

TEST_F(ClientFailureTest, SlowDripPastTheTimeoutTimesOut) {
  auto& srv = server({{.bytes = http_response(200, std::string(100, 'z')), .drip_bytes = 4, .drip_interval_ms = 10}});
  Request request;
  request.url = srv.url();
  request.timeout_s = 0.1;
  expect_failure(fetch(request), ErrorCode::RequestTimeout);
}

TEST_F(ClientFailureTest, HeadersOverTheLimitFail) {
  auto& srv = server({{.bytes = http_response(200, "", "X-Huge: " + std::string(2000, 'h') + "\r\n")}});
  Request request;
  request.url = srv.url();
  request.limits.max_response_header_bytes = 1024;
  expect_failure(fetch(request), ErrorCode::ResponseHeadersTooLarge);
}

TEST_F(ClientFailureTest, BodyOverTheLimitFails) {
  auto& srv = server({{.bytes = http_response(200, std::string(5000, 'b'))}});
  Request request;
  request.url = srv.url();
  request.limits.max_response_body_bytes = 1000;
  expect_failure(fetch(request), ErrorCode::ResponseBodyTooLarge);
}

TEST_F(ClientFailureTest, BadStatusLineIsMalformed) {
  auto& srv = server({{.bytes = "HTTP/1.1 2x0 Broken\r\n\r\n"}});
  expect_failure(get(srv.url()), ErrorCode::MalformedResponse);
}

TEST_F(ClientFailureTest, BadChunkedEncodingIsMalformed) {
  auto& srv = server({{.bytes = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnothex\r\nab\r\n"}});
  expect_failure(get(srv.url()), ErrorCode::MalformedResponse);
}

TEST_F(ClientFailureTest, HttpsWithoutATlsContextIsATlsError) {
  auto& srv = server({{.bytes = http_response(200, "")}});
  expect_failure(get("https://127.0.0.1:" + std::to_string(srv.port()) + "/"), ErrorCode::Tls);
}

TEST_F(ClientFailureTest, CancelCompletesOnceWithCancelled) {
  auto& srv = server({test::silent_reply()});
  Request request;
  request.url = srv.url();
  Response result;
  int calls = 0;
  auto id = client().send(request, [&](Response&& r) { result = std::move(r), ++calls; });
  ASSERT_TRUE(test::run_until(&loop_, [&] { return srv.requests() == 1; }));
  client().cancel(id);
  EXPECT_EQ(calls, 0);
  ASSERT_TRUE(test::run_until(&loop_, [&] { return calls == 1; }));
  client().cancel(id);  // already done: a no-op
  settle();
  EXPECT_EQ(calls, 1);
  expect_failure(result, ErrorCode::Cancelled);
}

TEST_F(ClientFailureTest, CloseCompletesInFlightRequestsWithCancelled) {
  auto& srv = server({test::silent_reply()});
  Request request;
  request.url = srv.url();
  int cancelled = 0;
  for (int i = 0; i < 3; ++i) {
    client().send(request, [&](Response&& r) { cancelled += r.final.error_code == ErrorCode::Cancelled; });
  }
  ASSERT_TRUE(test::run_until(&loop_, [&] { return srv.requests() == 3; }));
  bool closed = false;
  client().close([&] { closed = true; });
  ASSERT_TRUE(test::run_until(&loop_, [&] { return closed; }));
  EXPECT_EQ(cancelled, 3);
  EXPECT_EQ(client().open_connections(), 0u);
  client_.reset();
}

TEST_F(ClientFailureTest, CloseWithNothingOpenCompletesOnALaterTurn) {
  bool closed = false;
  client().close([&] { closed = true; });
  EXPECT_FALSE(closed);
  ASSERT_TRUE(test::run_until(&loop_, [&] { return closed; }));
  client_.reset();
}

}  // namespace
}  // namespace luaload::engine::http
