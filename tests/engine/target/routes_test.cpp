// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "engine/target/latency.hpp"
#include "engine/target/target_fixture.hpp"

namespace luaload::test {
namespace {

using engine::target::LatencySpec;
using engine::target::parse_latency;
using engine::target::TargetOptions;
using json = nlohmann::json;

class RoutesTest : public TargetTest {};

double elapsed_ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

TEST(LatencySpecParse, AcceptsTheThreeForms) {
  auto fixed = parse_latency("fixed:20ms");
  ASSERT_TRUE(fixed);
  EXPECT_EQ(fixed->kind, LatencySpec::Kind::Fixed);
  EXPECT_EQ(fixed->a_ns, 20'000'000);
  auto uniform = parse_latency("uniform:5ms-50ms");
  ASSERT_TRUE(uniform);
  EXPECT_EQ(uniform->kind, LatencySpec::Kind::Uniform);
  EXPECT_EQ(uniform->b_ns, 50'000'000);
  auto lognormal = parse_latency("lognormal:median=20ms,p99=200ms");
  ASSERT_TRUE(lognormal);
  EXPECT_EQ(lognormal->kind, LatencySpec::Kind::LogNormal);
  EXPECT_EQ(lognormal->a_ns, 20'000'000);
  EXPECT_EQ(lognormal->b_ns, 200'000'000);
}

TEST(LatencySpecParse, RejectsMalformedOrReversedSpecs) {
  EXPECT_FALSE(parse_latency("20ms"));
  EXPECT_FALSE(parse_latency("fixed:soon"));
  EXPECT_FALSE(parse_latency("uniform:50ms-5ms"));
  EXPECT_FALSE(parse_latency("lognormal:median=20ms"));
  EXPECT_FALSE(parse_latency("lognormal:median=200ms,p99=20ms"));
  EXPECT_FALSE(parse_latency("gamma:1ms"));
}

TEST(LatencySpecSample, LogNormalHitsItsMedianAndP99) {
  std::mt19937_64 rng(42);
  auto spec = *parse_latency("lognormal:median=20ms,p99=200ms");
  std::vector<int64_t> samples;
  for (int i = 0; i < 20000; ++i) samples.push_back(engine::target::sample_latency_ns(spec, rng));
  std::sort(samples.begin(), samples.end());
  EXPECT_NEAR(samples[10000] / 1e6, 20.0, 2.0);
  EXPECT_NEAR(samples[19800] / 1e6, 200.0, 30.0);
}

TEST_F(RoutesTest, CustomContentHonoursLatencyAndSize) {
  start();
  BlockingClient client(port());
  auto t0 = std::chrono::steady_clock::now();
  HttpResponse res = client.request("GET", "/content/custom?latency=fixed:60ms&size=300");
  EXPECT_GE(elapsed_ms(t0), 55.0);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body.size(), 300u);
  json body = json::parse(res.body);
  EXPECT_EQ(body["route"], "custom");
  EXPECT_DOUBLE_EQ(body["latency_ms"].get<double>(), 60.0);
}

TEST_F(RoutesTest, CustomContentWithErrorRateOneAlwaysFailsWithJson) {
  start();
  BlockingClient client(port());
  for (int i = 0; i < 10; ++i) {
    HttpResponse res = client.request("GET", "/content/custom?error_rate=1");
    ASSERT_TRUE(res.status == 500 || res.status == 503) << res.status;
    EXPECT_EQ(res.header("content-type"), "application/json");
    EXPECT_TRUE(json::parse(res.body).contains("error"));
  }
}

TEST_F(RoutesTest, CustomContentRejectsABadLatency) {
  start();
  BlockingClient client(port());
  HttpResponse res = client.request("GET", "/content/custom?latency=sometimes");
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(json::parse(res.body)["error"], "bad latency: sometimes");
}

TEST_F(RoutesTest, FastContentAnswersWithinTenMilliseconds) {
  start();
  BlockingClient client(port());
  auto t0 = std::chrono::steady_clock::now();
  HttpResponse res = client.request("GET", "/content/fast");
  EXPECT_LT(elapsed_ms(t0), 10.0 + 40.0);  // 10 ms by design, plus slack for a loaded CI machine
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body.size(), 1024u);
}

TEST_F(RoutesTest, RouteLatencyOptionOverridesTheDefault) {
  TargetOptions options;
  options.content["slow"].latency = *parse_latency("fixed:0ms");
  start(options);
  BlockingClient client(port());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(client.request("GET", "/content/slow").status, 200);
  EXPECT_LT(elapsed_ms(t0), 400.0);
}

TEST_F(RoutesTest, UnknownContentRouteIs404) {
  start();
  BlockingClient client(port());
  EXPECT_EQ(client.request("GET", "/content/nope").status, 404);
}

TEST_F(RoutesTest, EchoReturnsMethodHeadersAndBody) {
  start();
  BlockingClient client(port());
  HttpResponse res = client.request("POST", "/echo?x=1", "X-Test: yes\r\n", "payload");
  ASSERT_EQ(res.status, 200);
  json body = json::parse(res.body);
  EXPECT_EQ(body["method"], "POST");
  EXPECT_EQ(body["path"], "/echo");
  EXPECT_EQ(body["query"], "x=1");
  EXPECT_EQ(body["headers"]["x-test"], "yes");
  EXPECT_EQ(body["body"], "payload");
}

TEST_F(RoutesTest, RedirectChainsDownToZero) {
  start();
  BlockingClient client(port());
  HttpResponse first = client.request("GET", "/redirect/2");
  EXPECT_EQ(first.status, 302);
  EXPECT_EQ(first.header("location"), "/redirect/1");
  EXPECT_EQ(client.request("GET", "/redirect/1").header("location"), "/redirect/0");
  HttpResponse last = client.request("GET", "/redirect/0");
  EXPECT_EQ(last.status, 200);
  EXPECT_EQ(last.body, R"({"redirected":true})");
}

TEST_F(RoutesTest, StatusReturnsTheRequestedCode) {
  start();
  BlockingClient client(port());
  HttpResponse res = client.request("GET", "/status/418");
  EXPECT_EQ(res.status, 418);
  EXPECT_EQ(res.body, R"({"status":418})");
  EXPECT_EQ(client.request("GET", "/status/204").status, 204);
  EXPECT_EQ(client.request("GET", "/status/99").status, 400);
}

TEST_F(RoutesTest, UnknownPathIs404Json) {
  start();
  BlockingClient client(port());
  HttpResponse res = client.request("GET", "/nowhere");
  EXPECT_EQ(res.status, 404);
  EXPECT_EQ(res.body, R"({"error":"not found"})");
}

TEST_F(RoutesTest, SseStreamsTheRequestedNumberOfEvents) {
  start();
  BlockingClient client(port());
  auto t0 = std::chrono::steady_clock::now();
  HttpResponse res = client.request("GET", "/sse?events=3&interval=20ms");
  EXPECT_GE(elapsed_ms(t0), 35.0);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.header("content-type"), "text/event-stream");
  EXPECT_EQ(res.header("transfer-encoding"), "chunked");
  EXPECT_EQ(res.body,
            "id: 0\nevent: tick\ndata: {\"n\":0,\"total\":3}\n\n"
            "id: 1\nevent: tick\ndata: {\"n\":1,\"total\":3}\n\n"
            "id: 2\nevent: tick\ndata: {\"n\":2,\"total\":3}\n\n");
  EXPECT_EQ(client.request("GET", "/health").status, 200);  // the connection stays usable
}

TEST_F(RoutesTest, SseRejectsABadInterval) {
  start();
  BlockingClient client(port());
  EXPECT_EQ(client.request("GET", "/sse?events=3&interval=often").status, 400);
}

}  // namespace
}  // namespace luaload::test
