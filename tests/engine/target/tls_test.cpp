// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "engine/target/target_fixture.hpp"
#include "support/tls_fixtures.hpp"

namespace luaload::test {
namespace {

using engine::target::TargetOptions;
using engine::target::TargetServer;

// Blocking TLS exchange over a BlockingClient-style socket: verifies the server against the test CA.
class TlsTargetTest : public TargetTest {
 protected:
  void start_tls() {
    TargetOptions options;
    options.tls_cert_file = tls_files().server_cert;
    options.tls_key_file = tls_files().server_key;
    start(options);
  }

  // Sends `request` over TLS and returns everything the server sent until it closed the connection.
  std::string exchange(const std::string& request) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx, tls_files().ca_cert.c_str(), nullptr);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    BlockingClient socket(port());
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, socket.fd());
    SSL_set1_host(ssl, "127.0.0.1");
    std::string out;
    if (SSL_connect(ssl) == 1) {
      SSL_write(ssl, request.data(), static_cast<int>(request.size()));
      char buf[4096];
      int n;
      while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
    } else {
      ERR_clear_error();
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    return out;
  }
};

TEST_F(TlsTargetTest, ServesHealthOverVerifiedTls) {
  start_tls();
  EXPECT_EQ(server_->url().rfind("https://127.0.0.1:", 0), 0u);
  std::string res = exchange("GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(res.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << res;
  EXPECT_EQ(res.substr(res.size() - 4), "\r\nok");
}

TEST_F(TlsTargetTest, PlainHttpOnTheTlsPortIsClosedWithoutCrashing) {
  start_tls();
  {
    BlockingClient plain(port());
    ASSERT_TRUE(plain.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_TRUE(plain.closed_by_peer());
  }
  std::string res = exchange("GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(res.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

TEST(TlsTargetCreate, MissingCertificateFileIsAnError) {
  TargetOptions options;
  options.tls_cert_file = "/nonexistent/cert.pem";
  options.tls_key_file = "/nonexistent/key.pem";
  std::string error;
  EXPECT_EQ(TargetServer::create(options, &error), nullptr);
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace luaload::test
