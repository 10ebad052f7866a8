// SPDX-License-Identifier: MIT
#pragma once

// Drives a ClientSession and a ServerSession against each other entirely in memory: no sockets, no loop.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/tls/client_context.hpp"
#include "engine/tls/client_session.hpp"
#include "engine/tls/server_context.hpp"
#include "engine/tls/server_session.hpp"
#include "support/tls_fixtures.hpp"

namespace luaload::engine::tls::testing {

using Status = ClientSession::Status;

inline std::unique_ptr<ClientContext> make_client_context(ClientOptions options) {
  std::string error;
  auto context = ClientContext::create(options, &error);
  EXPECT_NE(context, nullptr) << error;
  return context;
}

// Trusts the test CA, verification on.
inline std::unique_ptr<ClientContext> make_trusting_client() {
  ClientOptions options;
  options.ca_file = test::tls_files().ca_cert;
  return make_client_context(options);
}

inline std::unique_ptr<ServerContext> make_server_context(const std::string& cert, const std::string& key,
                                                          ServerOptions options = {}) {
  std::string error;
  auto context = ServerContext::create(cert, key, &error, options);
  EXPECT_NE(context, nullptr) << error;
  return context;
}

inline std::unique_ptr<ServerContext> make_localhost_server(ServerOptions options = {}) {
  return make_server_context(test::tls_files().server_cert, test::tls_files().server_key, options);
}

// Moves whatever each side has to send over to the other. Returns the number of bytes moved.
inline size_t exchange(ClientSession& client, ServerSession& server) {
  const std::string to_server = client.take_ciphertext();
  server.feed_ciphertext(to_server.data(), to_server.size());
  const std::string to_client = server.take_ciphertext();
  client.feed_ciphertext(to_client.data(), to_client.size());
  return to_server.size() + to_client.size();
}

struct HandshakeResult {
  Status client = Status::WantRead;
  Status server = Status::WantRead;
};

// Runs both handshakes until neither side can progress (bounded: a TLS handshake needs three flights at most).
inline HandshakeResult run_handshake(ClientSession& client, ServerSession& server) {
  HandshakeResult result;
  for (int round = 0; round < 8; ++round) {
    if (result.client == Status::WantRead) {
      result.client = client.handshake();
    }
    const std::string to_server = client.take_ciphertext();
    server.feed_ciphertext(to_server.data(), to_server.size());
    if (result.server == Status::WantRead) {
      result.server = server.handshake();
    }
    const std::string to_client = server.take_ciphertext();
    client.feed_ciphertext(to_client.data(), to_client.size());
    if (result.client != Status::WantRead && result.server != Status::WantRead && to_server.empty() &&
        to_client.empty()) {
      break;
    }
  }
  return result;
}

// The client sends `request`, the server reads it and answers `response`; returns what the client read.
inline std::string round_trip(ClientSession& client, ServerSession& server, const std::string& request,
                              const std::string& response) {
  EXPECT_EQ(client.write(request), Status::Ok);
  exchange(client, server);
  std::string received;
  EXPECT_EQ(server.read(&received), Status::Ok);
  EXPECT_EQ(received, request);
  EXPECT_EQ(server.write(response), Status::Ok);
  exchange(client, server);
  std::string answer;
  EXPECT_EQ(client.read(&answer), Status::Ok);
  return answer;
}

}  // namespace luaload::engine::tls::testing
