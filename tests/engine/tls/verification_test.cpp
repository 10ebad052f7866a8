// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include "engine/tls/client_session.hpp"
#include "memory_pair.hpp"

namespace luaload::engine::tls {
namespace {

using testing::make_client_context;
using testing::make_server_context;
using testing::make_trusting_client;
using testing::run_handshake;
using testing::Status;

const test::TlsFiles& files() { return test::tls_files(); }

ClientOptions insecure() {
  ClientOptions options;
  options.verify_peer = false;
  return options;
}

ClientOptions with_ca_file(const std::string& path) {
  ClientOptions options;
  options.ca_file = path;
  return options;
}

TEST(Verification, SelfSignedCertificateFailsAsUnknownAuthority) {
  auto client_context = make_trusting_client();
  auto server_context = make_server_context(files().self_signed_cert, files().self_signed_key);
  ClientSession client(*client_context, "localhost", "");
  ServerSession server(*server_context);

  const auto result = run_handshake(client, server);

  EXPECT_EQ(result.client, Status::Failed);
  EXPECT_EQ(result.server, Status::Failed);
  EXPECT_EQ(client.failure(), TlsFailure::UnknownAuthority);
  EXPECT_EQ(client.error(), "x509: certificate signed by unknown authority (self-signed certificate)");
}

TEST(Verification, CertificateFromCaMissingInTrustStoreFailsAsUnknownAuthority) {
  auto client_context = make_client_context({});
  auto server_context = make_server_context(files().server_cert, files().server_key);
  ClientSession client(*client_context, "localhost", "");
  ServerSession server(*server_context);

  EXPECT_EQ(run_handshake(client, server).client, Status::Failed);
  EXPECT_EQ(client.failure(), TlsFailure::UnknownAuthority);
  EXPECT_EQ(client.error(),
            "x509: certificate signed by unknown authority (unable to get local issuer certificate)");
}

TEST(Verification, CertificateForAnotherNameFailsAsHostname) {
  auto client_context = make_trusting_client();
  auto server_context = make_server_context(files().wrong_name_cert, files().wrong_name_key);
  ClientSession client(*client_context, "localhost", "");
  ServerSession server(*server_context);

  EXPECT_EQ(run_handshake(client, server).client, Status::Failed);
  EXPECT_EQ(client.failure(), TlsFailure::Hostname);
  EXPECT_EQ(client.error(), "x509: certificate doesn't match hostname: valid for wrong.example, not localhost");
}

TEST(Verification, IpLiteralMissingFromCertificateFailsAsHostname) {
  auto client_context = make_trusting_client();
  auto server_context = make_server_context(files().server_cert, files().server_key);
  ClientSession client(*client_context, "127.0.0.2", "");
  ServerSession server(*server_context);

  EXPECT_EQ(run_handshake(client, server).client, Status::Failed);
  EXPECT_EQ(client.failure(), TlsFailure::Hostname);
  EXPECT_EQ(client.error(),
            "x509: certificate doesn't match hostname: valid for localhost, 127.0.0.1, ::1, not 127.0.0.2");
}

TEST(Verification, ExpiredCertificateFailsAsOtherTlsError) {
  auto client_context = make_trusting_client();
  auto server_context = make_server_context(files().expired_cert, files().expired_key);
  ClientSession client(*client_context, "localhost", "");
  ServerSession server(*server_context);

  EXPECT_EQ(run_handshake(client, server).client, Status::Failed);
  EXPECT_EQ(client.failure(), TlsFailure::Other);
  EXPECT_EQ(client.error(), "x509: certificate has expired");
}

TEST(Verification, InsecureModeAcceptsSelfSignedCertificate) {
  auto client_context = make_client_context(insecure());
  auto server_context = make_server_context(files().self_signed_cert, files().self_signed_key);
  ClientSession client(*client_context, "localhost", "");
  ServerSession server(*server_context);

  EXPECT_EQ(run_handshake(client, server).client, Status::Ok) << client.error();
  EXPECT_FALSE(client_context->verify_peer());
  EXPECT_EQ(client.failure(), TlsFailure::None);
}

TEST(Verification, InsecureModeAcceptsCertificateForAnotherName) {
  auto client_context = make_client_context(insecure());
  auto server_context = make_server_context(files().wrong_name_cert, files().wrong_name_key);
  ClientSession client(*client_context, "localhost", "");
  ServerSession server(*server_context);

  EXPECT_EQ(run_handshake(client, server).client, Status::Ok) << client.error();
}

TEST(Verification, MissingCaFileFailsContextCreationNamingTheFile) {
  std::string error;
  auto context = ClientContext::create(with_ca_file("/nonexistent/ca.pem"), &error);

  EXPECT_EQ(context, nullptr);
  EXPECT_EQ(error.rfind("cannot load CA file '/nonexistent/ca.pem': ", 0), 0u) << error;
}

TEST(Verification, CaFileWithoutCertificatesFailsContextCreation) {
  std::string error;
  auto context = ClientContext::create(with_ca_file(files().server_key), &error);

  EXPECT_EQ(context, nullptr);
  EXPECT_EQ(error.rfind("cannot load CA file '" + files().server_key + "': ", 0), 0u) << error;
}

TEST(ServerContext, MissingCertificateFailsCreationNamingTheFile) {
  std::string error;
  auto context = ServerContext::create("/nonexistent/cert.pem", files().server_key, &error);

  EXPECT_EQ(context, nullptr);
  EXPECT_EQ(error.rfind("cannot load certificate file '/nonexistent/cert.pem': ", 0), 0u) << error;
}

TEST(ServerContext, KeyNotMatchingCertificateFailsCreation) {
  std::string error;
  auto context = ServerContext::create(files().server_cert, files().self_signed_key, &error);

  EXPECT_EQ(context, nullptr);
  EXPECT_EQ(error, "cannot load key file '" + files().self_signed_key + "': key values mismatch");
}

}  // namespace
}  // namespace luaload::engine::tls
