// SPDX-License-Identifier: MIT
#pragma once

#include <string>

#include "engine/tls/client_context.hpp"
#include "engine/tls/session_cache.hpp"

typedef struct ssl_st SSL;

namespace luaload::engine::tls {

// What the OpenSSL callbacks of one client SSL need to know about (and tell) its ClientSession.
struct SslLink {
  std::string session_key;  // cache key, "host:port"; empty disables resumption
  std::string peer_names;   // names in a certificate that failed the hostname check, for the error message
};

// Internal to engine/tls: what ClientSession needs from its context. Loop thread only.
class ClientContext::Impl {
 public:
  Impl(SSL_CTX* ctx, bool verify_peer, size_t session_cache_size);
  ~Impl();

  SSL_CTX* ctx() const { return ctx_; }
  bool verify_peer() const { return verify_peer_; }
  SessionCache& sessions() { return sessions_; }
  const SessionCache& sessions() const { return sessions_; }

  // A new SSL for one connection, linked to *link, which must outlive the SSL: the new-session callback reads the
  // key whenever the server sends a ticket (in TLS 1.3 after the handshake), the verify callback fills peer_names.
  SSL* new_ssl(SslLink* link);
  void release_ssl() { --live_sessions_; }

 private:
  // Parsing the system's CA bundle costs ~250 million instructions (tens of ms per worker); a plain-HTTP test
  // never needs it, so it is loaded with the first SSL instead of with the context.
  void load_system_store_once();

  SSL_CTX* ctx_;
  bool verify_peer_;
  bool system_store_loaded_ = false;
  SessionCache sessions_;
  int live_sessions_ = 0;
};

}  // namespace luaload::engine::tls
