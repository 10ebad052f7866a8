// SPDX-License-Identifier: MIT
#include "engine/tls/client_session.hpp"

#include <gtest/gtest.h>

#include "memory_pair.hpp"

namespace luaload::engine::tls {
namespace {

using testing::exchange;
using testing::make_localhost_server;
using testing::make_trusting_client;
using testing::run_handshake;
using testing::Status;

TEST(ClientSession, HandshakeWithTrustedServerCompletesAndEchoesData) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server();
  ClientSession client(*client_context, "localhost", "localhost:443");
  ServerSession server(*server_context);

  const auto result = run_handshake(client, server);

  ASSERT_EQ(result.client, Status::Ok) << client.error();
  ASSERT_EQ(result.server, Status::Ok) << server.error();
  EXPECT_TRUE(client.handshake_complete());
  EXPECT_EQ(client.failure(), TlsFailure::None);
  EXPECT_EQ(client.error(), "");
  EXPECT_EQ(testing::round_trip(client, server, "ping", "pong"), "pong");
}

TEST(ClientSession, ReadBeforeAnyDataReturnsWantRead) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server();
  ClientSession client(*client_context, "localhost", "");
  ServerSession server(*server_context);
  ASSERT_EQ(run_handshake(client, server).client, Status::Ok);

  std::string out;
  EXPECT_EQ(client.read(&out), Status::WantRead);
  EXPECT_EQ(out, "");
}

TEST(ClientSession, HandshakeAndRecordsSurviveByteByByteFeeding) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server();
  ClientSession client(*client_context, "localhost", "");
  ServerSession server(*server_context);

  Status client_status = Status::WantRead;
  Status server_status = Status::WantRead;
  for (int round = 0; round < 8 && (client_status != Status::Ok || server_status != Status::Ok); ++round) {
    if (client_status == Status::WantRead) {
      client_status = client.handshake();
    }
    for (char byte : client.take_ciphertext()) {
      server.feed_ciphertext(&byte, 1);
      server_status = server_status == Status::WantRead ? server.handshake() : server_status;
    }
    for (char byte : server.take_ciphertext()) {
      client.feed_ciphertext(&byte, 1);
      client_status = client_status == Status::WantRead ? client.handshake() : client_status;
    }
  }
  ASSERT_EQ(client_status, Status::Ok) << client.error();
  ASSERT_EQ(server_status, Status::Ok) << server.error();

  const std::string message(5000, 'm');
  ASSERT_EQ(server.write(message), Status::Ok);
  std::string received;
  Status read_status = Status::WantRead;
  for (char byte : server.take_ciphertext()) {
    client.feed_ciphertext(&byte, 1);
    read_status = client.read(&received);
    ASSERT_NE(read_status, Status::Failed) << client.error();
  }
  EXPECT_EQ(read_status, Status::Ok);
  EXPECT_EQ(received, message);
}

TEST(ClientSession, LargeWriteIsEncryptedCompletelyAcrossRecords) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server();
  ClientSession client(*client_context, "localhost", "");
  ServerSession server(*server_context);
  ASSERT_EQ(run_handshake(client, server).client, Status::Ok);

  const std::string body(200 * 1024, 'b');
  ASSERT_EQ(client.write(body), Status::Ok);
  exchange(client, server);
  std::string received;
  EXPECT_EQ(server.read(&received), Status::Ok);
  EXPECT_EQ(received.size(), body.size());
  EXPECT_EQ(received, body);
}

TEST(ClientSession, DefaultVersionIsTls13) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server();
  ClientSession client(*client_context, "localhost", "");
  ServerSession server(*server_context);
  EXPECT_EQ(client.version(), "");

  ASSERT_EQ(run_handshake(client, server).client, Status::Ok);

  EXPECT_EQ(client.version(), "tls1.3");
  EXPECT_EQ(server.version(), "tls1.3");
}

TEST(ClientSession, ServerCappedAtTls12NegotiatesTls12) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server({.max_version = TlsVersion::Tls12});
  ClientSession client(*client_context, "localhost", "");
  ServerSession server(*server_context);

  ASSERT_EQ(run_handshake(client, server).client, Status::Ok) << client.error();

  EXPECT_EQ(client.version(), "tls1.2");
  EXPECT_EQ(testing::round_trip(client, server, "ping", "pong"), "pong");
}

TEST(ClientSession, AlpnNegotiatesHttp11) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server();
  ClientSession client(*client_context, "localhost", "");
  ServerSession server(*server_context);

  ASSERT_EQ(run_handshake(client, server).client, Status::Ok);

  EXPECT_EQ(client.alpn(), "http/1.1");
  EXPECT_EQ(server.alpn(), "http/1.1");
}

TEST(ClientSession, AlpnIsEmptyWhenServerSupportsNoneOfOurs) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server({.alpn = {"h2"}});
  ClientSession client(*client_context, "localhost", "");
  ServerSession server(*server_context);

  ASSERT_EQ(run_handshake(client, server).client, Status::Ok);

  EXPECT_EQ(client.alpn(), "");
}

TEST(ClientSession, HostnameIsSentAsSni) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server();
  ClientSession client(*client_context, "localhost", "");
  ServerSession server(*server_context);

  ASSERT_EQ(run_handshake(client, server).client, Status::Ok);

  EXPECT_EQ(server.server_name(), "localhost");
}

TEST(ClientSession, IpLiteralIsNotSentAsSniAndVerifiesAgainstIpSan) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server();
  ClientSession client(*client_context, "127.0.0.1", "");
  ServerSession server(*server_context);

  ASSERT_EQ(run_handshake(client, server).client, Status::Ok) << client.error();

  EXPECT_EQ(server.server_name(), "");
}

TEST(ClientSession, BracketedIpv6LiteralVerifiesAgainstIpSan) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server();
  ClientSession client(*client_context, "[::1]", "");
  ServerSession server(*server_context);

  ASSERT_EQ(run_handshake(client, server).client, Status::Ok) << client.error();

  EXPECT_EQ(server.server_name(), "");
}

TEST(ClientSession, ServerCloseNotifyReadsAsClosedAfterPrecedingData) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server();
  ClientSession client(*client_context, "localhost", "");
  ServerSession server(*server_context);
  ASSERT_EQ(run_handshake(client, server).client, Status::Ok);

  ASSERT_EQ(server.write("bye"), Status::Ok);
  server.shutdown();
  exchange(client, server);
  std::string out;

  EXPECT_EQ(client.read(&out), Status::Closed);
  EXPECT_EQ(out, "bye");
  EXPECT_EQ(client.read(&out), Status::Closed);
  EXPECT_EQ(client.write("more"), Status::Closed);
  EXPECT_EQ(client.failure(), TlsFailure::None);
}

TEST(ClientSession, ClientShutdownReadsAsClosedOnServer) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server();
  ClientSession client(*client_context, "localhost", "");
  ServerSession server(*server_context);
  ASSERT_EQ(run_handshake(client, server).client, Status::Ok);

  client.shutdown();
  exchange(client, server);
  std::string out;

  EXPECT_EQ(server.read(&out), Status::Closed);
}

TEST(ClientSession, GarbageFromServerFailsAsOtherTlsError) {
  auto client_context = make_trusting_client();
  ClientSession client(*client_context, "localhost", "");
  ASSERT_EQ(client.handshake(), Status::WantRead);
  EXPECT_FALSE(client.take_ciphertext().empty());

  const std::string garbage = "HTTP/1.1 400 Bad Request\r\n\r\n";
  client.feed_ciphertext(garbage.data(), garbage.size());

  EXPECT_EQ(client.handshake(), Status::Failed);
  EXPECT_EQ(client.failure(), TlsFailure::Other);
  EXPECT_EQ(client.error(), "tls: wrong version number");
  EXPECT_EQ(client.handshake(), Status::Failed);
}

TEST(ClientSession, CloseNotifyDuringHandshakeFailsAsOtherTlsError) {
  auto client_context = make_trusting_client();
  ClientSession client(*client_context, "localhost", "");
  ASSERT_EQ(client.handshake(), Status::WantRead);
  // A TLS 1.2 alert record: level warning (1), description close_notify (0).
  const char close_notify[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00};
  client.feed_ciphertext(close_notify, sizeof close_notify);

  EXPECT_EQ(client.handshake(), Status::Failed);
  EXPECT_EQ(client.failure(), TlsFailure::Other);
  EXPECT_EQ(client.error(), "tls: connection closed by the server during the handshake");
}

}  // namespace
}  // namespace luaload::engine::tls
