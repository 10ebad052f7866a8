// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "engine/tls/client_session.hpp"
#include "engine/tls/server_context.hpp"

namespace luaload::engine::tls {

class SslStream;

// The server mirror of ClientSession: the TLS state of one accepted connection over memory BIOs, doing no I/O.
// Feed it what the socket read, send what take_ciphertext() returns after every call.
//
// Threading: the connection's loop thread only. Ownership: the ServerContext must outlive the session.
class ServerSession {
 public:
  using Status = ClientSession::Status;

  explicit ServerSession(ServerContext& context);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  void feed_ciphertext(const char* data, size_t size);
  std::string take_ciphertext();

  // Ok once the handshake is complete (and on every later call); Failed with error() otherwise.
  Status handshake();
  bool handshake_complete() const;
  // Same contracts as ClientSession::write/read.
  Status write(std::string_view plaintext);
  Status read(std::string* out);
  // Queues our close_notify for take_ciphertext().
  void shutdown();

  const std::string& error() const;  // e.g. "tls: no shared cipher"
  std::string version() const;       // "tls1.2", "tls1.3"; empty before the handshake
  std::string alpn() const;
  bool session_reused() const;
  // Server Name Indication sent by the client, empty if none.
  std::string server_name() const;

 private:
  std::unique_ptr<SslStream> stream_;
};

}  // namespace luaload::engine::tls
