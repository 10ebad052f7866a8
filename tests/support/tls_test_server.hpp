// SPDX-License-Identifier: MIT
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "engine/tls/server_context.hpp"

namespace luaload::test {

struct TlsTestServerOptions {
  // PEM chain and key; empty means tls_files().server_cert / server_key (localhost, signed by the test CA).
  std::string cert_file;
  std::string key_file;
  engine::tls::TlsVersion max_version = engine::tls::TlsVersion::Tls13;
  // Sent verbatim for every complete request (headers + Content-Length body); keep-alive unless the request says
  // "Connection: close", in which case the server sends close_notify and closes after the response.
  std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
};

// A tiny HTTPS responder on 127.0.0.1 (port chosen by the OS), running a libuv loop with ServerSession on its own
// thread. It serves any number of concurrent keep-alive connections and counts what it sees.
//
// Threading: construct, query and destroy from one test thread; the counters may be read at any time. The
// constructor returns once the server listens (it aborts the test process if it cannot start: bad cert, no port).
// The destructor stops the loop, closes every handle and joins; it aborts if the loop did not close cleanly.
class TlsTestServer {
 public:
  explicit TlsTestServer(TlsTestServerOptions options = {});
  ~TlsTestServer();
  TlsTestServer(const TlsTestServer&) = delete;
  TlsTestServer& operator=(const TlsTestServer&) = delete;

  uint16_t port() const { return port_; }

  int connections() const { return counters_.connections.load(); }        // accepted TCP connections
  int handshakes() const { return counters_.handshakes.load(); }          // completed TLS handshakes
  int resumed_handshakes() const { return counters_.resumed.load(); }     // of which resumed a session
  int failed_handshakes() const { return counters_.failed.load(); }       // handshake or record errors
  int requests() const { return counters_.requests.load(); }              // responses sent

  struct Counters {
    std::atomic<int> connections{0};
    std::atomic<int> handshakes{0};
    std::atomic<int> resumed{0};
    std::atomic<int> failed{0};
    std::atomic<int> requests{0};
  };
  class Loop;

 private:
  std::unique_ptr<engine::tls::ServerContext> context_;
  Counters counters_;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
  uint16_t port_ = 0;
};

}  // namespace luaload::test
