// SPDX-License-Identifier: MIT
#pragma once

// A ClientSession over a blocking loopback socket: the simplest real-network driver for the session, used to test
// the TLS test server. Every receive is bounded by a 5 s socket timeout, so a stuck peer fails the test instead of
// hanging it.

#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "engine/tls/client_session.hpp"
#include "support/blocking_http.hpp"

namespace luaload::engine::tls::testing {

class BlockingTlsClient {
 public:
  using Status = ClientSession::Status;

  BlockingTlsClient(ClientContext& context, uint16_t port, const std::string& server_name = "localhost")
      : session_(context, server_name, server_name + ":" + std::to_string(port)),
        fd_(luaload::test::connect_loopback(port)) {}
  ~BlockingTlsClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  BlockingTlsClient(const BlockingTlsClient&) = delete;
  BlockingTlsClient& operator=(const BlockingTlsClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  ClientSession& session() { return session_; }

  // Ok, Failed, or WantRead if the server went quiet or closed mid-handshake.
  Status handshake() {
    for (;;) {
      const Status status = session_.handshake();
      if (!send_pending() || status != Status::WantRead || !receive()) {
        return status;
      }
    }
  }

  bool send(const std::string& plaintext) { return session_.write(plaintext) == Status::Ok && send_pending(); }

  // Reads until `size` bytes of plaintext arrived, the peer closed, or a receive timed out.
  Status read_at_least(size_t size, std::string* out) {
    for (;;) {
      const Status status = session_.read(out);
      send_pending();
      if (status == Status::Closed || status == Status::Failed || out->size() >= size) {
        return status;
      }
      if (!receive()) {
        return Status::WantRead;
      }
    }
  }

 private:
  bool send_pending() {
    const std::string bytes = session_.take_ciphertext();
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  bool receive() {
    char buffer[16 * 1024];
    const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) {
      return false;
    }
    session_.feed_ciphertext(buffer, static_cast<size_t>(n));
    return true;
  }

  ClientSession session_;
  int fd_ = -1;
};

}  // namespace luaload::engine::tls::testing
