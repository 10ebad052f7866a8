// SPDX-License-Identifier: MIT
// Client::stream: body pieces instead of a buffered body, idle timeout, stop, pause/resume, redirects.
#include "engine/http/client.hpp"

#include "client_fixture.hpp"

namespace luaload::engine::http {
namespace {

using test::http_response;
using test::Reply;

// What a stream delivered, and its completion.
struct Received {
  int heads = 0;
  int head_status = 0;
  std::string body;
  int pieces = 0;
  int completions = 0;
  Response response;
};

class ClientStreamTest : public ClientFixture {
 protected:
  Client::RequestId start(const std::string& url, Received* got, double idle_timeout_s = 5) {
    Request request;
    request.url = url;
    request.idle_timeout_s = idle_timeout_s;
    Client::StreamCallbacks callbacks;
    callbacks.on_headers = [got](const Response& head, const Exchange& exchange) {
      ++got->heads;
      got->head_status = exchange.status;
    };
    callbacks.on_body = [got](std::string_view data) {
      got->body.append(data);
      ++got->pieces;
    };
    auto id = client().stream(std::move(request), std::move(callbacks), [got](Response&& response) {
      got->response = std::move(response);
      ++got->completions;
    });
    EXPECT_EQ(got->completions, 0) << "completion ran inside stream()";
    return id;
  }

  void finish(Received* got) {
    ASSERT_TRUE(test::run_until(&loop_, [&] { return got->completions > 0; }));
    settle();
    EXPECT_EQ(got->completions, 1);
  }
};

const char kChunkedHead[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

TEST_F(ClientStreamTest, DeliversTheBodyInPiecesAfterTheHeadAndCompletesWithAnEmptyBody) {
  auto& srv = server({{.bytes = http_response(200, std::string(60, 'x')), .drip_bytes = 20, .drip_interval_ms = 2}});
  Received got;
  start(srv.url(), &got);
  finish(&got);
  EXPECT_EQ(got.heads, 1);
  EXPECT_EQ(got.head_status, 200);
  EXPECT_EQ(got.body, std::string(60, 'x'));
  EXPECT_GT(got.pieces, 1);
  EXPECT_EQ(got.response.final.status, 200);
  EXPECT_EQ(got.response.final.error_code, ErrorCode::None);
  EXPECT_TRUE(got.response.body.empty());
  EXPECT_EQ(client().open_connections(), 1u);  // a stream that ended normally leaves a reusable connection
}

TEST_F(ClientStreamTest, FailsWithRequestTimeoutWhenNoByteArrivesWithinTheIdleTimeout) {
  auto& srv = server({{.bytes = std::string(kChunkedHead) + "5\r\nhello\r\n"}});
  Received got;
  start(srv.url(), &got, 0.1);
  finish(&got);
  EXPECT_EQ(got.heads, 1);
  EXPECT_EQ(got.body, "hello");
  EXPECT_EQ(got.response.final.error_code, ErrorCode::RequestTimeout);
  EXPECT_EQ(got.response.final.error, "idle timeout: no data for 100 ms");
}

TEST_F(ClientStreamTest, KeepsAStreamThatSendsBytesMoreOftenThanTheIdleTimeoutAlive) {
  std::string body = std::string(kChunkedHead) + "5\r\nhello\r\n0\r\n\r\n";
  auto& srv = server({{.bytes = body, .drip_bytes = 4, .drip_interval_ms = 30}});
  Received got;
  start(srv.url(), &got, 0.4);  // the whole body takes ~0.7 s, longer than the idle timeout
  finish(&got);
  EXPECT_EQ(got.body, "hello");
  EXPECT_EQ(got.response.final.error_code, ErrorCode::None);
}

TEST_F(ClientStreamTest, StopAfterTheHeadCompletesWithoutErrorAndDiscardsTheConnection) {
  auto& srv = server({{.bytes = std::string(kChunkedHead) + "5\r\nhello\r\n"}});
  Received got;
  auto id = start(srv.url(), &got);
  ASSERT_TRUE(test::run_until(&loop_, [&] { return got.body == "hello"; }));
  client().stop(id);
  EXPECT_EQ(got.completions, 0);
  finish(&got);
  EXPECT_EQ(got.response.final.status, 200);
  EXPECT_EQ(got.response.final.error_code, ErrorCode::None);
  EXPECT_EQ(client().open_connections(), 0u);
}

TEST_F(ClientStreamTest, StopBeforeTheHeadCancels) {
  auto& srv = server({test::silent_reply()});
  Received got;
  auto id = start(srv.url(), &got);
  ASSERT_TRUE(test::run_until(&loop_, [&] { return srv.requests() == 1; }));
  client().stop(id);
  finish(&got);
  EXPECT_EQ(got.heads, 0);
  EXPECT_EQ(got.response.final.error_code, ErrorCode::Cancelled);
}

TEST_F(ClientStreamTest, ServerClosingMidBodyIsAnErrorNotAHang) {
  auto& srv = server({{.bytes = std::string(kChunkedHead) + "5\r\nhello\r\n", .close_after = true}});
  Received got;
  start(srv.url(), &got);
  finish(&got);
  EXPECT_EQ(got.body, "hello");
  EXPECT_EQ(got.response.final.error_code, ErrorCode::ConnectionClosedEarly);
}

TEST_F(ClientStreamTest, PauseStopsDeliveryAndResumeDeliversTheRest) {
  const std::string body(4 * 1024 * 1024, 'b');
  auto& srv = server({{.bytes = http_response(200, body)}});
  Received got;
  Client::RequestId id = 0;
  Request request;
  request.url = srv.url();
  request.idle_timeout_s = 0.25;  // must not fire while paused
  Client::StreamCallbacks callbacks;
  callbacks.on_body = [&](std::string_view data) {
    if (got.body.empty()) client().pause(id);
    got.body.append(data);
  };
  id = client().stream(std::move(request), std::move(callbacks), [&](Response&& r) {
    got.response = std::move(r);
    ++got.completions;
  });
  ASSERT_TRUE(test::run_until(&loop_, [&] { return !got.body.empty() || got.completions > 0; }));
  test::run_until(&loop_, [] { return false; }, 600);
  EXPECT_LE(got.body.size(), read_buffer_.size());  // nothing more than the read that paused it
  EXPECT_EQ(got.completions, 0);
  client().resume(id);
  finish(&got);
  EXPECT_EQ(got.body.size(), body.size());
  EXPECT_EQ(got.response.final.error_code, ErrorCode::None);
}

TEST_F(ClientStreamTest, FollowsARedirectAndStreamsOnlyTheFinalResponse) {
  auto& srv = server({{.bytes = http_response(302, "moved", "Location: /next\r\n")}, {.bytes = http_response(200, "final")}});
  Received got;
  start(srv.url(), &got);
  finish(&got);
  EXPECT_EQ(got.heads, 1);
  EXPECT_EQ(got.head_status, 200);
  EXPECT_EQ(got.body, "final");
  ASSERT_EQ(got.response.redirects.size(), 1u);
  EXPECT_EQ(got.response.redirects[0].status, 302);
}

}  // namespace
}  // namespace luaload::engine::http
