// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "engine/target/target_fixture.hpp"

namespace luaload::test {
namespace {

using engine::target::TargetOptions;
using engine::target::TargetServer;

class ServerTest : public TargetTest {};

TEST_F(ServerTest, HealthAnswersOk) {
  start();
  BlockingClient client(port());
  HttpResponse res = client.request("GET", "/health");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "ok");
  EXPECT_EQ(res.header("content-type"), "text/plain");
}

TEST_F(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  start();
  BlockingClient client(port());
  for (int i = 0; i < 50; ++i) {
    HttpResponse res = client.request("GET", "/health");
    ASSERT_EQ(res.status, 200) << i;
    ASSERT_EQ(res.body, "ok");
  }
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrderEvenWhenTheFirstIsDelayed) {
  TargetOptions options;
  options.content["slow"].latency = *engine::target::parse_latency("fixed:50ms");
  start(options);
  BlockingClient client(port());
  ASSERT_TRUE(client.send(
      "GET /content/slow HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /status/201 HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(client.read_response().status, 200);
  EXPECT_EQ(client.read_response().status, 201);
  HttpResponse third = client.read_response();
  EXPECT_EQ(third.status, 200);
  EXPECT_EQ(third.body, "ok");
}

TEST_F(ServerTest, ChunkedRequestBodyIsReassembled) {
  start();
  BlockingClient client(port());
  ASSERT_TRUE(client.send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  HttpResponse res = client.read_response();
  EXPECT_EQ(res.status, 200);
  EXPECT_NE(res.body.find(R"("body":"hello world")"), std::string::npos) << res.body;
}

TEST_F(ServerTest, OversizedContentLengthGets413AndClose) {
  TargetOptions options;
  options.max_body_bytes = 1000;
  start(options);
  BlockingClient client(port());
  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"));
  HttpResponse res = client.read_response();
  EXPECT_EQ(res.status, 413);
  EXPECT_EQ(res.header("connection"), "close");
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(ServerTest, OversizedChunkedBodyGets413) {
  TargetOptions options;
  options.max_body_bytes = 10;
  start(options);
  BlockingClient client(port());
  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n" +
                          std::string(32, 'a') + "\r\n0\r\n\r\n"));
  EXPECT_EQ(client.read_response().status, 413);
}

TEST_F(ServerTest, OversizedHeadersGet431AndClose) {
  TargetOptions options;
  options.max_header_bytes = 1024;
  start(options);
  BlockingClient client(port());
  ASSERT_TRUE(client.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n"));
  HttpResponse res = client.read_response();
  EXPECT_EQ(res.status, 431);
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(ServerTest, GarbageGets400AndCloseAndTheServerKeepsServing) {
  start();
  {
    BlockingClient client(port());
    ASSERT_TRUE(client.send("\x16\x03\x01 this is not http\r\n\r\n"));
    HttpResponse res = client.read_response();
    EXPECT_EQ(res.status, 400);
    EXPECT_TRUE(client.closed_by_peer());
  }
  BlockingClient next(port());
  EXPECT_EQ(next.request("GET", "/health").status, 200);
}

TEST_F(ServerTest, ClientResetMidRequestDoesNotDisturbOthers) {
  start();
  for (int i = 0; i < 20; ++i) {
    BlockingClient client(port());
    ASSERT_TRUE(client.send("GET /content/slow HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Le"));
    client.reset();
  }
  BlockingClient next(port());
  EXPECT_EQ(next.request("GET", "/health").status, 200);
}

TEST_F(ServerTest, IdleConnectionIsClosedAfterIdleTimeout) {
  TargetOptions options;
  options.idle_timeout_ms = 100;
  start(options);
  BlockingClient client(port());
  ASSERT_EQ(client.request("GET", "/health").status, 200);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

TEST_F(ServerTest, SlowlorisRequestIsCutOffByRequestTimeout) {
  TargetOptions options;
  options.request_timeout_ms = 200;
  start(options);
  BlockingClient client(port());
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(client.send("GET /health HTTP/1.1\r\n"));
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    client.send("X-A: b\r\n");
  }
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

TEST_F(ServerTest, Http10RequestWithoutKeepAliveGetsCloseDelimitedAnswer) {
  start();
  BlockingClient client(port());
  ASSERT_TRUE(client.send("GET /health HTTP/1.0\r\n\r\n"));
  HttpResponse res = client.read_response();
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "ok");
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(ServerTest, HeadRequestGetsHeadersWithoutBody) {
  start();
  BlockingClient client(port());
  HttpResponse res = client.request("HEAD", "/health");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.header("content-length"), "2");
  EXPECT_EQ(client.request("GET", "/health").body, "ok");
}

TEST_F(ServerTest, ExpectContinueGets100BeforeTheBody) {
  start();
  BlockingClient client(port());
  ASSERT_TRUE(client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(client.read_response().status, 100);
  ASSERT_TRUE(client.send("abc"));
  HttpResponse res = client.read_response();
  EXPECT_EQ(res.status, 200);
  EXPECT_NE(res.body.find(R"("body":"abc")"), std::string::npos);
}

TEST_F(ServerTest, SeveralThreadsShareOnePort) {
  TargetOptions options;
  options.threads = 3;
  start(options);
  for (int i = 0; i < 30; ++i) {
    BlockingClient client(port());
    ASSERT_EQ(client.request("GET", "/health").status, 200);
  }
}

TEST_F(ServerTest, StopClosesOpenConnectionsAndEveryLoop) {
  start();
  BlockingClient idle(port());
  ASSERT_EQ(idle.request("GET", "/health").status, 200);
  BlockingClient waiting(port());
  ASSERT_TRUE(waiting.send("GET /content/slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(server_->stop());
  EXPECT_TRUE(idle.closed_by_peer());
  EXPECT_TRUE(waiting.closed_by_peer());
}

TEST_F(ServerTest, RandomBytesNeverCrashTheServer) {
  start();
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    BlockingClient client(port(), 500);
    std::string junk(1 + rng() % 3000, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    // Half the connections start like a real request, so the junk hits the header and body states too.
    if (i % 2 == 0) junk = "POST /echo HTTP/1.1\r\nContent-Length: 10\r\n" + junk;
    client.send(junk);
    client.reset();
  }
  BlockingClient next(port());
  EXPECT_EQ(next.request("GET", "/health").status, 200);
}

TEST(TargetServerCreate, RejectsMismatchedTlsFlags) {
  TargetOptions options;
  options.tls_cert_file = "cert.pem";
  std::string error;
  EXPECT_EQ(TargetServer::create(options, &error), nullptr);
  EXPECT_EQ(error, "--tls-cert and --tls-key must be given together");
}

TEST(TargetServerCreate, RejectsAnInvalidHost) {
  TargetOptions options;
  options.host = "not-an-ip";
  std::string error;
  EXPECT_EQ(TargetServer::create(options, &error), nullptr);
  EXPECT_EQ(error, "invalid listen address: not-an-ip");
}

TEST(TargetServerCreate, ReportsAPortInUse) {
  TargetOptions options;
  std::string error;
  // SO_REUSEPORT would let a second socket of ours share the port, so hold it with a plain socket instead.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  options.port = ntohs(addr.sin_port);
  EXPECT_EQ(TargetServer::create(options, &error), nullptr);
  EXPECT_EQ(error, "cannot listen on 127.0.0.1:" + std::to_string(options.port) + ": Address already in use");
  ::close(fd);
}

TEST(TargetServerCreate, ASecondServerOnTheSamePortIsRefusedInsteadOfSharingItsTraffic) {
  TargetOptions options;
  std::string error;
  auto first = TargetServer::create(options, &error);
  ASSERT_NE(first, nullptr) << error;
  TargetOptions again;
  again.port = first->port();
  again.threads = 2;
  EXPECT_EQ(TargetServer::create(again, &error), nullptr);
  EXPECT_EQ(error, "cannot listen on 127.0.0.1:" + std::to_string(first->port()) + ": Address already in use");
  EXPECT_TRUE(first->stop());
}

}  // namespace
}  // namespace luaload::test
