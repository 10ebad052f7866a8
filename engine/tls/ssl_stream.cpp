// SPDX-License-Identifier: MIT
#include "engine/tls/ssl_stream.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "engine/core/assert.hpp"

namespace luaload::engine::tls {
namespace {

// One TLS record's worth of plaintext: SSL_read never returns more than this at once.
constexpr size_t kReadChunk = 16 * 1024;

std::string describe_error_queue() {
  // The first queued error is the cause; later ones are OpenSSL unwinding through its callers.
  const unsigned long first = ERR_get_error();
  ERR_clear_error();
  if (first == 0) {
    return "tls: unexpected end of stream";
  }
  const char* reason = ERR_reason_error_string(first);
  return std::string("tls: ") + (reason != nullptr ? reason : "handshake failure");
}

}  // namespace

SslStream::SslStream(SSL* ssl) : ssl_(ssl) {
  LUALOAD_CHECK(ssl_ != nullptr, "SSL_new failed");
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  LUALOAD_CHECK(in != nullptr && out != nullptr, "BIO_new failed");
  // An empty input BIO must read as "retry later", not EOF: more ciphertext may still arrive from the socket.
  BIO_set_mem_eof_return(in, -1);
  SSL_set_bio(ssl_, in, out);
}

SslStream::~SslStream() {
  // OpenSSL treats freeing an SSL that never sent close_notify as a bad end and marks its session not resumable.
  // Load-test connections are mostly closed that way (idle pool, server close, reset), and the session is as good
  // as ever, so we declare the shutdown done. Failed handshakes keep OpenSSL's verdict.
  if (!failed_) {
    SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  }
  SSL_free(ssl_);
}

void SslStream::feed(const char* data, size_t size) {
  if (size == 0) {
    return;
  }
  const int written = BIO_write(SSL_get_rbio(ssl_), data, static_cast<int>(size));
  LUALOAD_CHECK(written == static_cast<int>(size), "memory BIO write failed");
}

std::string SslStream::take() {
  BIO* out = SSL_get_wbio(ssl_);
  std::string bytes(BIO_ctrl_pending(out), '\0');
  if (!bytes.empty()) {
    const int n = BIO_read(out, bytes.data(), static_cast<int>(bytes.size()));
    LUALOAD_CHECK(n == static_cast<int>(bytes.size()), "memory BIO read failed");
  }
  return bytes;
}

SslStream::Result SslStream::handshake() {
  if (failed_) {
    return Result::Error;
  }
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    return Result::Ok;
  }
  return fail(SSL_get_error(ssl_, rc));
}

SslStream::Result SslStream::read(std::string* out) {
  if (failed_) {
    return Result::Error;
  }
  if (closed_) {
    return Result::Closed;
  }
  ERR_clear_error();
  bool appended = false;
  for (;;) {
    const size_t old_size = out->size();
    // Decrypt straight into the caller's string to avoid a copy per record.
    out->resize(old_size + kReadChunk);
    size_t n = 0;
    const int rc = SSL_read_ex(ssl_, out->data() + old_size, kReadChunk, &n);
    out->resize(old_size + n);
    if (rc == 1) {
      appended = appended || n > 0;
      continue;
    }
    const int ssl_error = SSL_get_error(ssl_, rc);
    if (ssl_error == SSL_ERROR_WANT_READ) {
      return appended ? Result::Ok : Result::WantRead;
    }
    return fail(ssl_error);
  }
}

SslStream::Result SslStream::write(std::string_view plaintext) {
  if (failed_) {
    return Result::Error;
  }
  if (closed_) {
    return Result::Closed;
  }
  ERR_clear_error();
  size_t done = 0;
  while (done < plaintext.size()) {
    size_t n = 0;
    const int rc = SSL_write_ex(ssl_, plaintext.data() + done, plaintext.size() - done, &n);
    if (rc != 1) {
      return fail(SSL_get_error(ssl_, rc));
    }
    done += n;
  }
  return Result::Ok;
}

void SslStream::shutdown() {
  if (failed_ || !SSL_is_init_finished(ssl_)) {
    return;
  }
  ERR_clear_error();
  // The first call queues our close_notify; we do not wait for the peer's, so its result does not matter.
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

bool SslStream::handshake_complete() const { return SSL_is_init_finished(ssl_) == 1; }

std::string SslStream::version() const {
  if (!handshake_complete()) {
    return {};
  }
  switch (SSL_version(ssl_)) {
    case TLS1_3_VERSION:
      return "tls1.3";
    case TLS1_2_VERSION:
      return "tls1.2";
    default:
      return SSL_get_version(ssl_);
  }
}

std::string SslStream::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int size = 0;
  SSL_get0_alpn_selected(ssl_, &data, &size);
  return data == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(data), size);
}

SslStream::Result SslStream::fail(int ssl_error) {
  switch (ssl_error) {
    case SSL_ERROR_WANT_READ:
      return Result::WantRead;
    case SSL_ERROR_ZERO_RETURN:
      closed_ = true;
      ERR_clear_error();
      return Result::Closed;
    default:
      failed_ = true;
      error_ = describe_error_queue();
      return Result::Error;
  }
}

}  // namespace luaload::engine::tls
