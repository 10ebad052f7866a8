// SPDX-License-Identifier: MIT
#include "engine/http/url.hpp"

#include <gtest/gtest.h>

namespace luaload::engine::http {
namespace {

TEST(ParseUrl, HttpUrlWithoutPortDefaultsTo80AndSlash) {
  auto url = parse_url("http://Example.com");
  ASSERT_TRUE(url);
  EXPECT_FALSE(url->https);
  EXPECT_EQ(url->host, "example.com");
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->target, "/");
  EXPECT_EQ(url->host_header, "example.com");
  EXPECT_EQ(url->origin, "http://example.com:80");
}

TEST(ParseUrl, HttpsUrlDefaultsTo443) {
  auto url = parse_url("https://example.com/a");
  ASSERT_TRUE(url);
  EXPECT_TRUE(url->https);
  EXPECT_EQ(url->port, 443);
}

TEST(ParseUrl, ExplicitPortAppearsInTheHostHeader) {
  auto url = parse_url("http://127.0.0.1:8080/x?y=1");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->host_header, "127.0.0.1:8080");
  EXPECT_EQ(url->target, "/x?y=1");
}

TEST(ParseUrl, Ipv6LiteralLosesItsBracketsInHostButKeepsThemInHostHeader) {
  auto url = parse_url("http://[::1]:9000/p");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 9000);
  EXPECT_EQ(url->host_header, "[::1]:9000");
  EXPECT_EQ(url->origin, "http://[::1]:9000");
}

TEST(ParseUrl, QueryWithoutPathGetsASlash) {
  auto url = parse_url("http://h?q=1");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->target, "/?q=1");
}

TEST(ParseUrl, FragmentIsDropped) {
  auto url = parse_url("http://h/a#frag");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->target, "/a");
}

TEST(ParseUrl, RejectsOtherSchemesMissingHostsBadPortsAndSpaces) {
  EXPECT_FALSE(parse_url("ftp://h/"));
  EXPECT_FALSE(parse_url("h/a"));
  EXPECT_FALSE(parse_url("http:///a"));
  EXPECT_FALSE(parse_url("http://h:0/"));
  EXPECT_FALSE(parse_url("http://h:65536/"));
  EXPECT_FALSE(parse_url("http://h:x/"));
  EXPECT_FALSE(parse_url("http://h/a b"));
  EXPECT_FALSE(parse_url("http://[::1/"));
  EXPECT_FALSE(parse_url("http://user@h/"));
}

TEST(ResolveLocation, AbsoluteLocationReplacesEverything) {
  auto next = resolve_location(*parse_url("http://a/x"), "https://b:8443/y");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->to_string(), "https://b:8443/y");
}

TEST(ResolveLocation, SchemeRelativeKeepsTheScheme) {
  auto next = resolve_location(*parse_url("https://a/x"), "//b/y");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->to_string(), "https://b/y");
}

TEST(ResolveLocation, AbsolutePathKeepsTheOrigin) {
  auto next = resolve_location(*parse_url("http://a:81/x/y?q"), "/z?k=v");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->to_string(), "http://a:81/z?k=v");
}

TEST(ResolveLocation, RelativePathIsMergedWithTheBaseDirectory) {
  auto next = resolve_location(*parse_url("http://a/dir/page?q"), "other");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->target, "/dir/other");
}

TEST(ResolveLocation, DotSegmentsAreRemoved) {
  auto next = resolve_location(*parse_url("http://a/b/c/d"), "../e/./f");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->target, "/b/e/f");
}

TEST(ResolveLocation, QueryOnlyKeepsThePath) {
  auto next = resolve_location(*parse_url("http://a/p?old"), "?new");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->target, "/p?new");
}

TEST(ResolveLocation, OtherSchemeIsRejected) {
  EXPECT_FALSE(resolve_location(*parse_url("http://a/"), "mailto:x@y"));
}

}  // namespace
}  // namespace luaload::engine::http
