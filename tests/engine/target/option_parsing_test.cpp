// SPDX-License-Identifier: MIT
#include "engine/target/option_parsing.hpp"

#include <gtest/gtest.h>

namespace luaload::engine::target {
namespace {

TEST(ParseListen, AcceptsIpv4Ipv6AndBarePorts) {
  TargetOptions options;
  std::string error;
  ASSERT_TRUE(parse_listen("0.0.0.0:9000", &options, &error));
  EXPECT_EQ(options.host, "0.0.0.0");
  EXPECT_EQ(options.port, 9000);
  ASSERT_TRUE(parse_listen("[::1]:8080", &options, &error));
  EXPECT_EQ(options.host, "::1");
  EXPECT_EQ(options.port, 8080);
  ASSERT_TRUE(parse_listen("8081", &options, &error));
  EXPECT_EQ(options.host, "127.0.0.1");
  EXPECT_EQ(options.port, 8081);
}

TEST(ParseListen, RejectsABadPortWithAMessageNamingTheInput) {
  TargetOptions options;
  std::string error;
  EXPECT_FALSE(parse_listen("127.0.0.1:http", &options, &error));
  EXPECT_EQ(error, "--listen must be HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080, got \"127.0.0.1:http\"");
  EXPECT_FALSE(parse_listen("127.0.0.1:70000", &options, &error));
}

TEST(ParseRouteLatency, SetsTheLatencyOfOneRoute) {
  TargetOptions options;
  std::string error;
  ASSERT_TRUE(parse_route_latency("fast=fixed:2ms", &options, &error));
  EXPECT_EQ(options.content["fast"].latency.kind, LatencySpec::Kind::Fixed);
  EXPECT_EQ(options.content["fast"].latency.a_ns, 2'000'000);
  EXPECT_EQ(options.content["slow"].latency.a_ns, 500'000'000);
}

TEST(ParseRouteLatency, RejectsUnknownRoutesAndSpecs) {
  TargetOptions options;
  std::string error;
  EXPECT_FALSE(parse_route_latency("turbo=fixed:2ms", &options, &error));
  EXPECT_FALSE(parse_route_latency("fast=quick", &options, &error));
  EXPECT_FALSE(parse_route_latency("fast", &options, &error));
}

TEST(ParseErrorRate, AppliesToEveryContentRoute) {
  TargetOptions options;
  std::string error;
  ASSERT_TRUE(parse_error_rate("0.25", &options, &error));
  for (const auto& [name, profile] : options.content) EXPECT_DOUBLE_EQ(profile.error_rate, 0.25) << name;
  EXPECT_FALSE(parse_error_rate("1.5", &options, &error));
  EXPECT_FALSE(parse_error_rate("lots", &options, &error));
}

TEST(ParseMcpSse, KnowsTheThreeModes) {
  TargetOptions options;
  std::string error;
  ASSERT_TRUE(parse_mcp_sse("always", &options, &error));
  EXPECT_EQ(options.mcp_sse, McpSseMode::Always);
  ASSERT_TRUE(parse_mcp_sse("never", &options, &error));
  EXPECT_EQ(options.mcp_sse, McpSseMode::Never);
  EXPECT_FALSE(parse_mcp_sse("sometimes", &options, &error));
  EXPECT_EQ(error, "--mcp-sse must be auto, always or never, got \"sometimes\"");
}

TEST(ParseMcpEra, KnowsTheThreeEras) {
  TargetOptions options;
  std::string error;
  EXPECT_EQ(options.mcp_era, McpEra::Both);
  ASSERT_TRUE(parse_mcp_era("modern", &options, &error));
  EXPECT_EQ(options.mcp_era, McpEra::Modern);
  ASSERT_TRUE(parse_mcp_era("legacy", &options, &error));
  EXPECT_EQ(options.mcp_era, McpEra::Legacy);
  EXPECT_FALSE(parse_mcp_era("2026", &options, &error));
  EXPECT_EQ(error, "--mcp-era must be both, modern or legacy, got \"2026\"");
  EXPECT_EQ(options.mcp_era, McpEra::Legacy);
}

TEST(ParseMcpDuration, TakesAK6DurationOrZeroAndNamesTheFlag) {
  int64_t ms = -1;
  std::string error;
  ASSERT_TRUE(parse_mcp_duration("--mcp-retry", "250ms", &ms, &error));
  EXPECT_EQ(ms, 250);
  ASSERT_TRUE(parse_mcp_duration("--mcp-listen-timeout", "0", &ms, &error));
  EXPECT_EQ(ms, 0);
  EXPECT_FALSE(parse_mcp_duration("--mcp-cache-ttl", "later", &ms, &error));
  EXPECT_EQ(error, "--mcp-cache-ttl must be a duration such as 500ms or 5m, got \"later\"");
}

TEST(ParseTokenFormat, IsOpaqueOrJwt) {
  TargetOptions options;
  std::string error;
  ASSERT_TRUE(parse_token_format("jwt", &options, &error));
  EXPECT_TRUE(options.jwt_access_tokens);
  ASSERT_TRUE(parse_token_format("opaque", &options, &error));
  EXPECT_FALSE(options.jwt_access_tokens);
  EXPECT_FALSE(parse_token_format("paseto", &options, &error));
  EXPECT_EQ(error, "--token-format must be opaque or jwt, got \"paseto\"");
}

TEST(ParseTokenTtl, TakesAK6Duration) {
  TargetOptions options;
  std::string error;
  ASSERT_TRUE(parse_token_ttl("30s", &options, &error));
  EXPECT_EQ(options.token_ttl_ms, 30'000);
  EXPECT_FALSE(parse_token_ttl("soon", &options, &error));
}

}  // namespace
}  // namespace luaload::engine::target
