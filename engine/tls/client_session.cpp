// SPDX-License-Identifier: MIT
#include "engine/tls/client_session.hpp"

#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "engine/tls/client_context_impl.hpp"
#include "engine/tls/ssl_stream.hpp"

namespace luaload::engine::tls {
namespace {

// "[::1]" -> "::1"; other names unchanged.
std::string_view strip_brackets(std::string_view name) {
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    return name.substr(1, name.size() - 2);
  }
  return name;
}

bool is_ip_literal(const std::string& name) {
  unsigned char buffer[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, name.c_str(), buffer) == 1 || inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

TlsFailure classify(long verify_result) {
  switch (verify_result) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_INVALID_CA:
      return TlsFailure::UnknownAuthority;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return TlsFailure::Hostname;
    default:
      return TlsFailure::Other;
  }
}

}  // namespace

class ClientSession::Impl {
 public:
  Impl(ClientContext::Impl& context, std::string_view server_name, std::string_view session_key)
      : context_(context), server_name_(strip_brackets(server_name)) {
    link_.session_key = session_key;
    stream_ = std::make_unique<SslStream>(context_.new_ssl(&link_));
    SSL* ssl = stream_->ssl();
    SSL_set_connect_state(ssl);
    const bool ip = is_ip_literal(server_name_);
    // RFC 6066 forbids IP literals in SNI.
    if (!ip && !server_name_.empty()) {
      SSL_set_tlsext_host_name(ssl, server_name_.c_str());
    }
    if (context_.verify_peer() && !server_name_.empty()) {
      expect_name(ssl, ip);
    }
    if (SSL_SESSION* cached = link_.session_key.empty() ? nullptr : context_.sessions().find(link_.session_key)) {
      SSL_set_session(ssl, cached);
    }
  }

  ~Impl() {
    stream_.reset();
    context_.release_ssl();
  }

  Status finish(SslStream::Result result) {
    switch (result) {
      case SslStream::Result::Ok:
        return Status::Ok;
      case SslStream::Result::WantRead:
        return Status::WantRead;
      case SslStream::Result::Closed:
        return Status::Closed;
      case SslStream::Result::Error:
        break;
    }
    if (failure_ == TlsFailure::None) {
      record_failure();
    }
    return Status::Failed;
  }

  Status closed_during_handshake() {
    failure_ = TlsFailure::Other;
    error_ = "tls: connection closed by the server during the handshake";
    return Status::Failed;
  }

  SslStream& stream() { return *stream_; }
  TlsFailure failure() const { return failure_; }
  const std::string& error() const { return error_; }

 private:
  void expect_name(SSL* ssl, bool ip) {
    if (ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name_.c_str());
    } else {
      SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      SSL_set1_host(ssl, server_name_.c_str());
    }
  }

  void record_failure() {
    const long verify_result = SSL_get_verify_result(stream_->ssl());
    failure_ = context_.verify_peer() && verify_result != X509_V_OK ? classify(verify_result) : TlsFailure::Other;
    if (failure_ == TlsFailure::UnknownAuthority) {
      error_ = std::string("x509: certificate signed by unknown authority (") +
               X509_verify_cert_error_string(verify_result) + ")";
    } else if (failure_ == TlsFailure::Hostname) {
      error_ = "x509: certificate doesn't match hostname: valid for " +
               (link_.peer_names.empty() ? std::string("other names") : link_.peer_names) + ", not " + server_name_;
    } else if (context_.verify_peer() && verify_result != X509_V_OK) {
      error_ = std::string("x509: ") + X509_verify_cert_error_string(verify_result);
    } else {
      error_ = stream_->error();
    }
    // A session that led to a failure is not worth offering again.
    if (!link_.session_key.empty()) {
      context_.sessions().forget(link_.session_key);
    }
  }

  ClientContext::Impl& context_;
  std::string server_name_;
  SslLink link_;
  std::unique_ptr<SslStream> stream_;
  TlsFailure failure_ = TlsFailure::None;
  std::string error_;
};

ClientSession::ClientSession(ClientContext& context, std::string_view server_name, std::string_view session_key)
    : impl_(std::make_unique<Impl>(context.impl(), server_name, session_key)) {}

ClientSession::~ClientSession() = default;

void ClientSession::feed_ciphertext(const char* data, size_t size) { impl_->stream().feed(data, size); }

std::string ClientSession::take_ciphertext() { return impl_->stream().take(); }

ClientSession::Status ClientSession::handshake() {
  const Status status = impl_->finish(impl_->stream().handshake());
  // A close_notify before the handshake completes is a failed handshake to our callers, not a clean close.
  return status == Status::Closed ? impl_->closed_during_handshake() : status;
}

bool ClientSession::handshake_complete() const { return impl_->stream().handshake_complete(); }

ClientSession::Status ClientSession::write(std::string_view plaintext) {
  return impl_->finish(impl_->stream().write(plaintext));
}

ClientSession::Status ClientSession::read(std::string* out) { return impl_->finish(impl_->stream().read(out)); }

void ClientSession::shutdown() { impl_->stream().shutdown(); }

TlsFailure ClientSession::failure() const { return impl_->failure(); }

const std::string& ClientSession::error() const { return impl_->error(); }

std::string ClientSession::version() const { return impl_->stream().version(); }

std::string ClientSession::alpn() const { return impl_->stream().alpn(); }

bool ClientSession::session_reused() const { return SSL_session_reused(impl_->stream().ssl()) == 1; }

}  // namespace luaload::engine::tls
