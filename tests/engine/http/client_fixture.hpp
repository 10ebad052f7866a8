// SPDX-License-Identifier: MIT
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "engine/http/client.hpp"
#include "engine/net/dns_cache.hpp"
#include "engine/tls/client_context.hpp"
#include "support/loop_fixture.hpp"
#include "support/misbehaving_server.hpp"

namespace luaload::engine::http {

// One loop with a worker's environment (DNS cache, shared read buffer, optional TLS context), a Client, and the
// local servers a test starts. TearDown closes them all and checks that the loop closes.
class ClientFixture : public test::LoopFixture {
 protected:
  ClientFixture() {
    env_.loop = &loop_;
    env_.dns = &dns_;
    env_.read_buffer = &read_buffer_;
  }

  void TearDown() override {
    int pending = 0;
    auto closed = [&] { --pending; };
    if (client_) ++pending, client_->close(closed);
    for (auto& server : servers_) ++pending, server->close(closed);
    ++pending;
    dns_.close(closed);
    EXPECT_TRUE(test::run_until(&loop_, [&] { return pending == 0; }));
    client_.reset();
    servers_.clear();
    LoopFixture::TearDown();
  }

  Client& client() {
    if (!client_) client_ = std::make_unique<Client>(env_);
    return *client_;
  }

  test::MisbehavingServer& server(std::vector<test::Reply> replies) {
    servers_.push_back(std::make_unique<test::MisbehavingServer>(&loop_, std::move(replies)));
    return *servers_.back();
  }

  // Sends and runs the loop until the completion (bounded); asserts it ran exactly once, never inside send().
  Response fetch(Request request, int timeout_ms = 10000) {
    Response result;
    int calls = 0;
    client().send(std::move(request), [&](Response&& response) {
      result = std::move(response);
      ++calls;
    });
    EXPECT_EQ(calls, 0) << "completion ran inside send()";
    EXPECT_TRUE(test::run_until(&loop_, [&] { return calls > 0; }, timeout_ms));
    EXPECT_EQ(calls, 1);
    return result;
  }

  Response get(const std::string& url) {
    Request request;
    request.url = url;
    return fetch(std::move(request));
  }

  // Lets pending close callbacks run so open_connections() reflects closed sockets.
  void settle() {
    test::run_until(&loop_, [] { return false; }, 30);
  }

  net::DnsCache dns_{&loop_};
  std::vector<char> read_buffer_;
  ClientEnvironment env_;
  std::unique_ptr<Client> client_;
  std::vector<std::unique_ptr<test::MisbehavingServer>> servers_;
};

}  // namespace luaload::engine::http
