// SPDX-License-Identifier: MIT
#include "support/tls_test_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "blocking_client.hpp"
#include "memory_pair.hpp"

namespace luaload::engine::tls {
namespace {

using testing::BlockingTlsClient;
using testing::make_trusting_client;
using testing::Status;

constexpr const char* kRequest = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
const std::string kResponse = test::TlsTestServerOptions{}.response;

// Counters are bumped on the server thread; the client may see its result first.
bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// Handshake, one request, the full response; returns whether the client resumed a session.
bool fetch_once(ClientContext& context, uint16_t port) {
  BlockingTlsClient client(context, port);
  EXPECT_TRUE(client.connected());
  EXPECT_EQ(client.handshake(), Status::Ok) << client.session().error();
  EXPECT_TRUE(client.send(kRequest));
  std::string response;
  EXPECT_EQ(client.read_at_least(kResponse.size(), &response), Status::Ok);
  EXPECT_EQ(response, kResponse);
  return client.session().session_reused();
}

TEST(TlsTestServer, AnswersTheCannedResponseOverVerifiedTls) {
  test::TlsTestServer server;
  auto context = make_trusting_client();

  EXPECT_FALSE(fetch_once(*context, server.port()));

  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.handshakes(), 1);
  EXPECT_EQ(server.requests(), 1);
  EXPECT_EQ(server.resumed_handshakes(), 0);
}

TEST(TlsTestServer, ServesSeveralRequestsOnOneKeepAliveConnection) {
  test::TlsTestServer server;
  auto context = make_trusting_client();
  BlockingTlsClient client(*context, server.port());
  ASSERT_EQ(client.handshake(), Status::Ok);

  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.send("POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello"));
    std::string response;
    ASSERT_EQ(client.read_at_least(kResponse.size(), &response), Status::Ok);
    EXPECT_EQ(response, kResponse);
  }

  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.requests(), 3);
}

TEST(TlsTestServer, SecondTls13ConnectionResumesTheSession) {
  test::TlsTestServer server;
  auto context = make_trusting_client();

  fetch_once(*context, server.port());
  EXPECT_TRUE(fetch_once(*context, server.port()));

  EXPECT_EQ(server.handshakes(), 2);
  EXPECT_EQ(server.resumed_handshakes(), 1);
}

TEST(TlsTestServer, SecondTls12ConnectionResumesTheSession) {
  test::TlsTestServerOptions options;
  options.max_version = TlsVersion::Tls12;
  test::TlsTestServer server(options);
  auto context = make_trusting_client();

  fetch_once(*context, server.port());
  EXPECT_TRUE(fetch_once(*context, server.port()));

  EXPECT_EQ(server.resumed_handshakes(), 1);
}

TEST(TlsTestServer, ConnectionCloseRequestGetsResponseThenCloseNotify) {
  test::TlsTestServer server;
  auto context = make_trusting_client();
  BlockingTlsClient client(*context, server.port());
  ASSERT_EQ(client.handshake(), Status::Ok);

  ASSERT_TRUE(client.send("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
  std::string response;

  EXPECT_EQ(client.read_at_least(kResponse.size() + 1, &response), Status::Closed);
  EXPECT_EQ(response, kResponse);
}

TEST(TlsTestServer, ClientRejectingTheCertificateCountsAsFailedHandshake) {
  test::TlsTestServerOptions options;
  options.cert_file = test::tls_files().self_signed_cert;
  options.key_file = test::tls_files().self_signed_key;
  test::TlsTestServer server(options);
  auto context = make_trusting_client();
  BlockingTlsClient client(*context, server.port());

  EXPECT_EQ(client.handshake(), Status::Failed);

  EXPECT_EQ(client.session().failure(), TlsFailure::UnknownAuthority);
  EXPECT_TRUE(eventually([&] { return server.failed_handshakes() == 1; }));
  EXPECT_EQ(server.handshakes(), 0);
}

TEST(TlsTestServer, StopsCleanlyWithAConnectionStillOpen) {
  auto context = make_trusting_client();
  auto server = std::make_unique<test::TlsTestServer>();
  BlockingTlsClient client(*context, server->port());
  ASSERT_EQ(client.handshake(), Status::Ok);

  server.reset();  // aborts the process unless every handle closed

  std::string out;
  EXPECT_NE(client.read_at_least(1, &out), Status::Ok);
}

}  // namespace
}  // namespace luaload::engine::tls
