// SPDX-License-Identifier: MIT
// The https path: the client drives tls::ClientSession over its own socket, against the threaded TLS test server.
#include "engine/http/client.hpp"

#include "client_fixture.hpp"
#include "support/tls_fixtures.hpp"
#include "support/tls_test_server.hpp"

namespace luaload::engine::http {
namespace {

class ClientTlsTest : public ClientFixture {
 protected:
  void use_tls(bool verify = true) {
    tls::ClientOptions options;
    options.verify_peer = verify;
    options.ca_file = test::tls_files().ca_cert;
    std::string error;
    context_ = tls::ClientContext::create(options, &error);
    ASSERT_NE(context_, nullptr) << error;
    env_.tls = context_.get();
  }

  static std::string url(const test::TlsTestServer& server, std::string_view host = "localhost") {
    return "https://" + std::string(host) + ":" + std::to_string(server.port()) + "/";
  }

  std::unique_ptr<tls::ClientContext> context_;
};

TEST_F(ClientTlsTest, HttpsGetSucceedsWithAVerifiedCertificate) {
  use_tls();
  test::TlsTestServer server;
  Response response = get(url(server));
  EXPECT_EQ(response.final.status, 200) << response.final.error;
  EXPECT_EQ(response.body, "ok");
  EXPECT_EQ(response.tls_version, "tls1.3");
  EXPECT_GT(response.final.timing.tls_handshaking_ms, 0.0);
}

TEST_F(ClientTlsTest, KeepAliveReusesTheTlsConnection) {
  use_tls();
  test::TlsTestServer server;
  EXPECT_EQ(get(url(server)).final.status, 200);
  Response second = get(url(server));
  EXPECT_EQ(second.final.status, 200);
  EXPECT_EQ(second.final.timing.tls_handshaking_ms, 0.0);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.handshakes(), 1);
}

TEST_F(ClientTlsTest, Tls12IsReportedAsSuch) {
  use_tls();
  test::TlsTestServerOptions options;
  options.max_version = tls::TlsVersion::Tls12;
  test::TlsTestServer server(options);
  Response response = get(url(server));
  EXPECT_EQ(response.final.status, 200) << response.final.error;
  EXPECT_EQ(response.tls_version, "tls1.2");
}

TEST_F(ClientTlsTest, UntrustedCertificateIsUnknownAuthority) {
  use_tls();
  test::TlsTestServerOptions options;
  options.cert_file = test::tls_files().self_signed_cert;
  options.key_file = test::tls_files().self_signed_key;
  test::TlsTestServer server(options);
  Response response = get(url(server));
  EXPECT_EQ(response.final.status, 0);
  EXPECT_EQ(response.final.error_code, ErrorCode::TlsUnknownAuthority) << response.final.error;
  settle();
  EXPECT_EQ(client().open_connections(), 0u);
}

TEST_F(ClientTlsTest, CertificateForAnotherNameIsAHostnameError) {
  use_tls();
  test::TlsTestServerOptions options;
  options.cert_file = test::tls_files().wrong_name_cert;
  options.key_file = test::tls_files().wrong_name_key;
  test::TlsTestServer server(options);
  Response response = get(url(server));
  EXPECT_EQ(response.final.status, 0);
  EXPECT_EQ(response.final.error_code, ErrorCode::TlsHostname) << response.final.error;
}

TEST_F(ClientTlsTest, InsecureModeAcceptsAnUntrustedCertificate) {
  use_tls(false);
  test::TlsTestServerOptions options;
  options.cert_file = test::tls_files().self_signed_cert;
  options.key_file = test::tls_files().self_signed_key;
  test::TlsTestServer server(options);
  EXPECT_EQ(get(url(server, "127.0.0.1")).final.status, 200);
}

TEST_F(ClientTlsTest, ARequestSentFromInsideACompletionReusesTheTlsConnectionThatJustAnswered) {
  use_tls();
  test::TlsTestServer server;
  Request request;
  request.url = url(server);
  Response outer_kept;
  Response inner_got;
  int inner_calls = 0;
  client().send(request, [&](Response&& outer) {
    outer_kept = std::move(outer);
    client().send(request, [&](Response&& inner) {
      inner_got = std::move(inner);
      ++inner_calls;
    });
  });
  ASSERT_TRUE(test::run_until(&loop_, [&] { return inner_calls == 1; }));
  EXPECT_EQ(outer_kept.final.status, 200) << outer_kept.final.error;
  EXPECT_EQ(outer_kept.body, "ok");
  EXPECT_EQ(inner_got.final.status, 200) << inner_got.final.error;
  EXPECT_EQ(inner_got.body, "ok");
  EXPECT_EQ(inner_got.tls_version, "tls1.3");
  EXPECT_EQ(inner_got.final.timing.tls_handshaking_ms, 0.0);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.handshakes(), 1);
}

TEST_F(ClientTlsTest, ARedirectFromHttpsToPlainHttpEndsWithNoTlsVersion) {
  use_tls();
  auto& plain = server({{.bytes = test::http_response(200, "plain")}});
  test::TlsTestServerOptions options;
  options.response = "HTTP/1.1 302 Found\r\nLocation: " + plain.url("/landed") + "\r\nContent-Length: 0\r\n\r\n";
  test::TlsTestServer secure(options);
  Response response = get(url(secure));
  EXPECT_EQ(response.final.status, 200) << response.final.error;
  EXPECT_EQ(response.body, "plain");
  ASSERT_EQ(response.redirects.size(), 1u);
  EXPECT_EQ(response.tls_version, "");  // the final hop's: plain HTTP
}

}  // namespace
}  // namespace luaload::engine::http
