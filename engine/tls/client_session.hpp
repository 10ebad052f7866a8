// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "engine/tls/client_context.hpp"

namespace luaload::engine::tls {

enum class TlsFailure {
  None,
  UnknownAuthority,  // certificate chain not trusted (k6 1310)
  Hostname,          // certificate does not match the host (k6 1311)
  Other,             // handshake or record failure (k6 1300)
};

// The TLS state of one client connection over OpenSSL memory BIOs. It does no I/O: the connection feeds it the
// bytes read from the socket and sends what take_ciphertext() returns. That keeps TLS on the same loop and the
// same read path as plain TCP. Nothing here calls back: every method returns its result.
//
// Lifecycle:   handshake() -> WantRead (feed more) ... -> Ok -> read()/write() ... -> Closed (peer close_notify)
//              any step may end in Failed, which is final: failure() and error() then say why.
//
// Threading: the owning connection's loop thread only. Ownership: the ClientContext must outlive the session.
class ClientSession {
 public:
  enum class Status {
    Ok,        // progress made / operation complete
    WantRead,  // needs more bytes from the peer (feed_ciphertext) before it can go on
    Closed,    // the peer sent close_notify
    Failed,    // see failure() and error()
  };

  // server_name is used for SNI and hostname verification (not sent as SNI when it is an IP literal; "[::1]" and
  // "::1" are both accepted). session_key (e.g. "host:port") selects the cached session to resume and where to
  // store the new one; empty disables resumption.
  ClientSession(ClientContext& context, std::string_view server_name, std::string_view session_key);
  ~ClientSession();
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Bytes read from the socket, any amount (a partial record is kept until the rest arrives).
  void feed_ciphertext(const char* data, size_t size);
  // Bytes to write to the socket now (may be empty). Call after every other method: reads can produce output too.
  std::string take_ciphertext();

  // Drives the handshake; Ok once it is complete (and on every later call).
  Status handshake();
  bool handshake_complete() const;

  // Encrypts application data (all of it, or Failed). Closed after the peer's close_notify.
  Status write(std::string_view plaintext);
  // Decrypts whatever application data is available and appends it to *out: Ok when it appended something,
  // WantRead when nothing is available yet, Closed once the peer's close_notify has been read (data that preceded
  // it is still appended). Also completes the handshake if it is not done yet.
  Status read(std::string* out);
  // Queues our close_notify for take_ciphertext(). No-op before the handshake completes or after a failure.
  void shutdown();

  TlsFailure failure() const;
  const std::string& error() const;      // human-readable detail, e.g. "x509: certificate signed by unknown authority"
  std::string version() const;           // "tls1.2", "tls1.3"; empty before the handshake
  std::string alpn() const;              // negotiated protocol, empty if none
  bool session_reused() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace luaload::engine::tls
