// SPDX-License-Identifier: MIT
#include "app/metrics_endpoint.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "support/blocking_http.hpp"
#include "support/loop_fixture.hpp"

namespace luaload::app {
namespace {

class MetricsEndpointTest : public test::LoopFixture {
 protected:
  void TearDown() override {
    endpoint_.close();
    LoopFixture::TearDown();
  }

  // Runs the loop until the client thread is done (bounded: 10 s).
  std::string request(const std::string& text) {
    std::atomic<bool> done{false};
    std::string response;
    std::thread client([&] {
      response = test::blocking_exchange(endpoint_.port(), text);
      done = true;
    });
    uv_timer_init(&loop_, &wake_);
    uv_timer_start(&wake_, [](uv_timer_t*) {}, 5, 5);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done && std::chrono::steady_clock::now() < deadline) uv_run(&loop_, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
    client.join();
    return response;
  }

  uv_timer_t wake_{};  // wakes the loop so it notices the client thread is done; closed after each request
  MetricsEndpoint endpoint_{&loop_, [] { return std::string("luaload_vus 3\n"); }};
};

TEST_F(MetricsEndpointTest, ServesTheExpositionOnGetMetrics) {
  std::string error;
  ASSERT_TRUE(endpoint_.start("127.0.0.1:0", &error)) << error;
  ASSERT_GT(endpoint_.port(), 0);
  std::string response = request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(response,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 14\r\n"
            "Connection: close\r\n\r\nluaload_vus 3\n");
}

TEST_F(MetricsEndpointTest, AnswersOtherPathsWith404) {
  ASSERT_TRUE(endpoint_.start("127.0.0.1:0", nullptr));
  EXPECT_EQ(request("GET / HTTP/1.1\r\n\r\n").substr(0, 22), "HTTP/1.1 404 Not Found");
}

TEST_F(MetricsEndpointTest, AnswersOtherMethodsWith405) {
  ASSERT_TRUE(endpoint_.start("127.0.0.1:0", nullptr));
  EXPECT_EQ(request("POST /metrics HTTP/1.1\r\n\r\n").substr(0, 31), "HTTP/1.1 405 Method Not Allowed");
}

TEST_F(MetricsEndpointTest, AnswersGarbageWith400) {
  ASSERT_TRUE(endpoint_.start("127.0.0.1:0", nullptr));
  EXPECT_EQ(request("hello\r\n\r\n").substr(0, 24), "HTTP/1.1 400 Bad Request");
}

TEST_F(MetricsEndpointTest, AnswersAnOversizedHeadWith431) {
  ASSERT_TRUE(endpoint_.start("127.0.0.1:0", nullptr));
  std::string huge = "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a');
  EXPECT_EQ(request(huge).substr(0, 12), "HTTP/1.1 431");
}

TEST_F(MetricsEndpointTest, RejectsAnAddressWithoutAPort) {
  std::string error;
  EXPECT_FALSE(endpoint_.start("127.0.0.1", &error));
  EXPECT_EQ(error, "--metrics-addr must be IP:PORT (like 127.0.0.1:9464), got \"127.0.0.1\"");
}

TEST_F(MetricsEndpointTest, ReportsAPortInUse) {
  MetricsEndpoint first(&loop_, [] { return std::string(); });
  ASSERT_TRUE(first.start("127.0.0.1:0", nullptr));
  std::string error;
  EXPECT_FALSE(endpoint_.start("127.0.0.1:" + std::to_string(first.port()), &error));
  EXPECT_NE(error.find("address already in use"), std::string::npos) << error;
  first.close();
  uv_run(&loop_, UV_RUN_NOWAIT);
}

}  // namespace
}  // namespace luaload::app
