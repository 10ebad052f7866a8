// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

typedef struct ssl_st SSL;

namespace luaload::engine::tls {

// Internal to engine/tls: one SSL object wired to a pair of memory BIOs, the common half of ClientSession and
// ServerSession. It never touches a socket: ciphertext goes in through feed() and out through take().
//
// Ownership: takes the SSL* (freed with the stream, BIOs included). Threading: one owner thread.
class SslStream {
 public:
  enum class Result { Ok, WantRead, Closed, Error };

  explicit SslStream(SSL* ssl);
  ~SslStream();
  SslStream(const SslStream&) = delete;
  SslStream& operator=(const SslStream&) = delete;

  SSL* ssl() const { return ssl_; }

  void feed(const char* data, size_t size);
  std::string take();

  Result handshake();
  // Appends all decryptable application data to *out. Ok if it appended anything, WantRead if nothing was ready.
  Result read(std::string* out);
  // Encrypts all of `plaintext` (memory BIOs never refuse a write) or fails.
  Result write(std::string_view plaintext);
  // Queues a close_notify alert for take(). Harmless to repeat.
  void shutdown();

  bool handshake_complete() const;
  // OpenSSL's reason for the last Error result, e.g. "tls: sslv3 alert handshake failure".
  const std::string& error() const { return error_; }
  std::string version() const;
  std::string alpn() const;

 private:
  Result fail(int ssl_error);

  SSL* ssl_;
  std::string error_;
  bool failed_ = false;
  bool closed_ = false;
};

}  // namespace luaload::engine::tls
