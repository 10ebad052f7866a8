// SPDX-License-Identifier: MIT
#pragma once

#include <memory>
#include <string>
#include <vector>

typedef struct ssl_ctx_st SSL_CTX;

namespace luaload::engine::tls {

enum class TlsVersion { Tls12, Tls13 };

struct ServerOptions {
  TlsVersion max_version = TlsVersion::Tls13;    // Tls12 lets tests exercise TLS 1.2 behaviour (resumption)
  std::vector<std::string> alpn = {"http/1.1"};  // protocols we accept, in our order of preference
};

// Server side of TLS, for the built-in target server and the test fixtures: a certificate chain and key, TLS 1.2
// minimum, ALPN selection, and session resumption through tickets (TLS 1.2 and 1.3) and the server session cache.
// Created on any thread; afterwards used by ServerSessions on one loop thread. Must outlive its sessions.
class ServerContext {
 public:
  // nullptr with *error set (naming the file) when the certificate chain or key cannot be loaded or do not match.
  static std::unique_ptr<ServerContext> create(const std::string& cert_pem_path, const std::string& key_pem_path,
                                               std::string* error, const ServerOptions& options = {});
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  SSL_CTX* native() const { return ctx_; }

 private:
  struct AlpnPreference;
  ServerContext(SSL_CTX* ctx, std::unique_ptr<AlpnPreference> alpn);

  SSL_CTX* ctx_;
  std::unique_ptr<AlpnPreference> alpn_;
};

}  // namespace luaload::engine::tls
