// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include "engine/tls/client_session.hpp"
#include "memory_pair.hpp"

namespace luaload::engine::tls {
namespace {

using testing::make_localhost_server;
using testing::make_trusting_client;
using testing::run_handshake;
using testing::Status;

struct Connection {
  bool client_reused = false;
  bool server_reused = false;
  std::string version;
};

// One full connection: handshake, one exchange of data (which is when TLS 1.3 tickets reach the client), close.
Connection connect_once(ClientContext& client_context, ServerContext& server_context, const std::string& key) {
  ClientSession client(client_context, "localhost", key);
  ServerSession server(server_context);
  const auto result = run_handshake(client, server);
  EXPECT_EQ(result.client, Status::Ok) << client.error();
  EXPECT_EQ(testing::round_trip(client, server, "ping", "pong"), "pong");
  return {client.session_reused(), server.session_reused(), client.version()};
}

TEST(Resumption, SecondTls13ConnectionToSameKeyResumes) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server();

  const Connection first = connect_once(*client_context, *server_context, "localhost:443");
  const Connection second = connect_once(*client_context, *server_context, "localhost:443");

  EXPECT_EQ(first.version, "tls1.3");
  EXPECT_FALSE(first.client_reused);
  EXPECT_TRUE(second.client_reused);
  EXPECT_TRUE(second.server_reused);
  EXPECT_EQ(client_context->cached_sessions(), 1u);
}

TEST(Resumption, SecondTls12ConnectionToSameKeyResumes) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server({.max_version = TlsVersion::Tls12});

  const Connection first = connect_once(*client_context, *server_context, "localhost:443");
  const Connection second = connect_once(*client_context, *server_context, "localhost:443");

  EXPECT_EQ(first.version, "tls1.2");
  EXPECT_FALSE(first.client_reused);
  EXPECT_TRUE(second.client_reused);
  EXPECT_TRUE(second.server_reused);
}

TEST(Resumption, ResumedConnectionsKeepResuming) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server();
  connect_once(*client_context, *server_context, "localhost:443");

  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(connect_once(*client_context, *server_context, "localhost:443").client_reused) << "connection " << i;
  }
}

TEST(Resumption, ConnectionToAnotherKeyDoesNotResume) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server();
  connect_once(*client_context, *server_context, "localhost:443");

  const Connection other = connect_once(*client_context, *server_context, "localhost:8443");

  EXPECT_FALSE(other.client_reused);
  EXPECT_EQ(client_context->cached_sessions(), 2u);
}

TEST(Resumption, EmptyKeyNeverCachesOrResumes) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server();
  connect_once(*client_context, *server_context, "");

  EXPECT_FALSE(connect_once(*client_context, *server_context, "").client_reused);
  EXPECT_EQ(client_context->cached_sessions(), 0u);
}

TEST(Resumption, CacheKeepsOnlyTheMostRecentlyUsedKeysUpToItsSize) {
  ClientOptions options;
  options.ca_file = test::tls_files().ca_cert;
  options.session_cache_size = 2;
  auto client_context = testing::make_client_context(options);
  auto server_context = make_localhost_server();

  connect_once(*client_context, *server_context, "a:443");
  connect_once(*client_context, *server_context, "b:443");
  connect_once(*client_context, *server_context, "a:443");
  connect_once(*client_context, *server_context, "c:443");

  EXPECT_EQ(client_context->cached_sessions(), 2u);
  EXPECT_TRUE(connect_once(*client_context, *server_context, "a:443").client_reused);
  EXPECT_FALSE(connect_once(*client_context, *server_context, "b:443").client_reused);
}

TEST(Resumption, FailedHandshakeForgetsTheCachedSession) {
  auto client_context = make_trusting_client();
  auto server_context = make_localhost_server();
  connect_once(*client_context, *server_context, "localhost:443");
  ASSERT_EQ(client_context->cached_sessions(), 1u);

  ClientSession client(*client_context, "localhost", "localhost:443");
  ASSERT_EQ(client.handshake(), Status::WantRead);
  const std::string garbage(64, 'x');
  client.feed_ciphertext(garbage.data(), garbage.size());

  EXPECT_EQ(client.handshake(), Status::Failed);
  EXPECT_EQ(client_context->cached_sessions(), 0u);
}

}  // namespace
}  // namespace luaload::engine::tls
