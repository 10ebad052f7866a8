// SPDX-License-Identifier: MIT
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/target/target_server.hpp"
#include "engine/target/blocking_client.hpp"

namespace luaload::test {

// Starts a TargetServer on 127.0.0.1:0 per test and checks that it stops cleanly (every loop closed with
// uv_loop_close() == 0).
class TargetTest : public ::testing::Test {
 protected:
  void start(engine::target::TargetOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    std::string error;
    server_ = engine::target::TargetServer::create(options, &error);
    ASSERT_NE(server_, nullptr) << error;
  }
  void TearDown() override {
    if (server_) {
      EXPECT_TRUE(server_->stop());
    }
  }
  int port() const { return server_->port(); }

  std::unique_ptr<engine::target::TargetServer> server_;
};

}  // namespace luaload::test
