// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

typedef struct ssl_ctx_st SSL_CTX;

namespace luaload::engine::tls {

struct ClientOptions {
  bool verify_peer = true;                      // against the system trust store (+ ca_file); --insecure clears it
  std::string ca_file;                          // extra PEM CA file, empty for none
  std::vector<std::string> alpn = {"http/1.1"};
  size_t session_cache_size = 256;              // distinct host:port keys remembered for resumption (LRU)
};

// One per worker: the OpenSSL client context and the session cache that lets reconnects resume (keyed by
// host:port). Loop thread only, except create(). TLS 1.2 is the minimum version; verification, when on, checks the
// chain against the system store plus ca_file, and the name in ClientSession.
//
// Ownership: must outlive every ClientSession made from it (checked when destroyed).
class ClientContext {
 public:
  // nullptr with *error set (naming the file) when the CA file cannot be loaded. Any thread; reads the file.
  static std::unique_ptr<ClientContext> create(const ClientOptions& options, std::string* error);
  ~ClientContext();

  SSL_CTX* native() const;
  bool verify_peer() const;
  // How many host:port keys currently have a session to resume.
  size_t cached_sessions() const;

  class Impl;
  Impl& impl() { return *impl_; }

 private:
  explicit ClientContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace luaload::engine::tls
