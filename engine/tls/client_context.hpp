// SPDX-License-Identifier: MIT
#pragma once

#include <memory>
#include <string>
#include <vector>

typedef struct ssl_ctx_st SSL_CTX;

namespace luaload::engine::tls {

struct ClientOptions {
  bool verify_peer = true;                      // against the system trust store (+ ca_file); --insecure clears it
  std::string ca_file;                          // extra PEM CA file, empty for none
  std::vector<std::string> alpn = {"http/1.1"};
};

// One per worker: the OpenSSL client context and the session cache that lets reconnects resume (keyed by
// host:port). Loop thread only, except create().
class ClientContext {
 public:
  // nullptr with *error set (naming the file) when the CA file cannot be loaded.
  static std::unique_ptr<ClientContext> create(const ClientOptions& options, std::string* error);
  ~ClientContext();

  SSL_CTX* native() const;
  bool verify_peer() const;

  class Impl;
  Impl& impl() { return *impl_; }

 private:
  explicit ClientContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace luaload::engine::tls
