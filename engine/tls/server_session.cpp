// SPDX-License-Identifier: MIT
#include "engine/tls/server_session.hpp"

#include <openssl/ssl.h>

#include "engine/tls/ssl_stream.hpp"

namespace luaload::engine::tls {
namespace {

ServerSession::Status to_status(SslStream::Result result) {
  switch (result) {
    case SslStream::Result::Ok:
      return ServerSession::Status::Ok;
    case SslStream::Result::WantRead:
      return ServerSession::Status::WantRead;
    case SslStream::Result::Closed:
      return ServerSession::Status::Closed;
    case SslStream::Result::Error:
      break;
  }
  return ServerSession::Status::Failed;
}

}  // namespace

ServerSession::ServerSession(ServerContext& context)
    : stream_(std::make_unique<SslStream>(SSL_new(context.native()))) {
  SSL_set_accept_state(stream_->ssl());
}

ServerSession::~ServerSession() = default;

void ServerSession::feed_ciphertext(const char* data, size_t size) { stream_->feed(data, size); }

std::string ServerSession::take_ciphertext() { return stream_->take(); }

ServerSession::Status ServerSession::handshake() { return to_status(stream_->handshake()); }

bool ServerSession::handshake_complete() const { return stream_->handshake_complete(); }

ServerSession::Status ServerSession::write(std::string_view plaintext) { return to_status(stream_->write(plaintext)); }

ServerSession::Status ServerSession::read(std::string* out) { return to_status(stream_->read(out)); }

void ServerSession::shutdown() { stream_->shutdown(); }

const std::string& ServerSession::error() const { return stream_->error(); }

std::string ServerSession::version() const { return stream_->version(); }

std::string ServerSession::alpn() const { return stream_->alpn(); }

bool ServerSession::session_reused() const { return SSL_session_reused(stream_->ssl()) == 1; }

std::string ServerSession::server_name() const {
  const char* name = SSL_get_servername(stream_->ssl(), TLSEXT_NAMETYPE_host_name);
  return name != nullptr ? name : std::string();
}

}  // namespace luaload::engine::tls
