// SPDX-License-Identifier: MIT
#include "engine/tls/server_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace luaload::engine::tls {

struct ServerContext::AlpnPreference {
  std::string wire;  // our protocols in ALPN wire format (length-prefixed), most preferred first
};

namespace {

constexpr unsigned char kSessionIdContext[] = "luaload";

std::string openssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  return reason != nullptr ? reason : "unknown error";
}

// Picks our most preferred protocol that the client offers. A client offering none of ours still gets a
// connection, without ALPN, as a plain HTTP/1.1 server would give it.
int on_alpn_select_cb(SSL* ssl, const unsigned char** out, unsigned char* out_size, const unsigned char* in,
                      unsigned int in_size, void* arg) {
  const auto* preference = static_cast<const std::string*>(arg);
  for (size_t i = 0; i < preference->size(); i += 1 + static_cast<unsigned char>((*preference)[i])) {
    const auto size = static_cast<unsigned char>((*preference)[i]);
    for (unsigned int j = 0; j < in_size; j += 1u + in[j]) {
      if (in[j] == size && j + 1u + size <= in_size && preference->compare(i + 1, size,
                                                                            reinterpret_cast<const char*>(in + j + 1),
                                                                            size) == 0) {
        *out = in + j + 1;
        *out_size = size;
        return SSL_TLSEXT_ERR_OK;
      }
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

bool load_identity(SSL_CTX* ctx, const std::string& cert_path, const std::string& key_path, std::string* error) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_path.c_str()) != 1) {
    *error = "cannot load certificate file '" + cert_path + "': " + openssl_reason();
    return false;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    *error = "cannot load key file '" + key_path + "': " + openssl_reason();
    return false;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    *error = "key file '" + key_path + "' does not match certificate '" + cert_path + "'";
    ERR_clear_error();
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<ServerContext> ServerContext::create(const std::string& cert_pem_path,
                                                     const std::string& key_pem_path, std::string* error,
                                                     const ServerOptions& options) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    *error = "cannot create TLS server context: " + openssl_reason();
    return nullptr;
  }
  if (!load_identity(ctx, cert_pem_path, key_pem_path, error)) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, options.max_version == TlsVersion::Tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1);
  auto alpn = std::make_unique<AlpnPreference>();
  for (const auto& protocol : options.alpn) {
    if (!protocol.empty() && protocol.size() <= 255) {
      alpn->wire.push_back(static_cast<char>(protocol.size()));
      alpn->wire += protocol;
    }
  }
  if (!alpn->wire.empty()) {
    SSL_CTX_set_alpn_select_cb(ctx, on_alpn_select_cb, &alpn->wire);
  }
  return std::unique_ptr<ServerContext>(new ServerContext(ctx, std::move(alpn)));
}

ServerContext::ServerContext(SSL_CTX* ctx, std::unique_ptr<AlpnPreference> alpn)
    : ctx_(ctx), alpn_(std::move(alpn)) {}

ServerContext::~ServerContext() { SSL_CTX_free(ctx_); }

}  // namespace luaload::engine::tls
