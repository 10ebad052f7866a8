// SPDX-License-Identifier: MIT
#include "engine/net/dns_cache.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include "support/loop_fixture.hpp"
#include "support/misbehaving_server.hpp"

namespace luaload::engine::net {
namespace {

class DnsCacheTest : public test::LoopFixture {
 protected:
  void TearDown() override {
    bool closed = false;
    dns_.close([&] { closed = true; });
    test::run_until(&loop_, [&] { return closed; });
    EXPECT_TRUE(closed);
    LoopFixture::TearDown();
  }

  DnsAnswer resolve(std::string_view host) {
    DnsAnswer result;
    int calls = 0;
    dns_.resolve(host, [&](const DnsAnswer& answer) {
      result = answer;
      ++calls;
    });
    EXPECT_EQ(calls, 0) << "completed from inside resolve()";
    EXPECT_TRUE(test::run_until(&loop_, [&] { return calls > 0; }, 10000));
    EXPECT_EQ(calls, 1);
    return result;
  }

  DnsCache dns_{&loop_};
};

TEST_F(DnsCacheTest, Ipv4LiteralResolvesWithoutALookup) {
  DnsAnswer answer = resolve("127.0.0.1");
  ASSERT_EQ(answer.status, 0);
  ASSERT_EQ(answer.addresses->size(), 1u);
  const auto& addr = reinterpret_cast<const sockaddr_in&>(answer.addresses->front());
  EXPECT_EQ(addr.sin_family, AF_INET);
  EXPECT_EQ(ntohl(addr.sin_addr.s_addr), 0x7f000001u);
  EXPECT_EQ(dns_.lookups(), 0u);
}

TEST_F(DnsCacheTest, Ipv6LiteralResolvesWithoutALookup) {
  DnsAnswer answer = resolve("::1");
  ASSERT_EQ(answer.status, 0);
  EXPECT_EQ(answer.addresses->front().ss_family, AF_INET6);
  EXPECT_EQ(dns_.lookups(), 0u);
}

TEST_F(DnsCacheTest, LocalhostResolvesToALoopbackAddress) {
  DnsAnswer answer = resolve("localhost");
  ASSERT_EQ(answer.status, 0);
  EXPECT_FALSE(answer.addresses->empty());
  EXPECT_EQ(dns_.lookups(), 1u);
}

TEST_F(DnsCacheTest, SecondResolveOfANameIsServedFromTheCache) {
  ASSERT_EQ(resolve("localhost").status, 0);
  DnsAnswer again = resolve("localhost");
  EXPECT_EQ(again.status, 0);
  EXPECT_EQ(dns_.lookups(), 1u);
}

TEST_F(DnsCacheTest, ConcurrentResolvesOfOneNameShareOneLookup) {
  int calls = 0;
  for (int i = 0; i < 3; ++i) dns_.resolve("localhost", [&](const DnsAnswer& answer) { calls += answer.status == 0; });
  EXPECT_TRUE(test::run_until(&loop_, [&] { return calls == 3; }, 10000));
  EXPECT_EQ(dns_.lookups(), 1u);
}

TEST_F(DnsCacheTest, ExpiredEntryIsLookedUpAgain) {
  DnsCache short_lived(&loop_, 0.0);
  int calls = 0;
  auto count = [&](const DnsAnswer&) { ++calls; };
  short_lived.resolve("localhost", count);
  ASSERT_TRUE(test::run_until(&loop_, [&] { return calls == 1; }, 10000));
  short_lived.resolve("localhost", count);
  ASSERT_TRUE(test::run_until(&loop_, [&] { return calls == 2; }, 10000));
  EXPECT_EQ(short_lived.lookups(), 2u);
  bool closed = false;
  short_lived.close([&] { closed = true; });
  EXPECT_TRUE(test::run_until(&loop_, [&] { return closed; }));
}

TEST_F(DnsCacheTest, UnknownNameFailsWithNoSuchHost) {
  DnsAnswer answer = resolve("no-such-host.invalid");
  EXPECT_TRUE(answer.status == UV_EAI_NONAME || answer.status == UV_EAI_NODATA) << uv_strerror(answer.status);
  EXPECT_EQ(answer.addresses, nullptr);
}

}  // namespace
}  // namespace luaload::engine::net
