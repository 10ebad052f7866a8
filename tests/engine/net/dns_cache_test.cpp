// SPDX-License-Identifier: MIT
#include "engine/net/dns_cache.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>
#include <vector>

#include "support/loop_fixture.hpp"
#include "support/misbehaving_server.hpp"

namespace luaload::engine::net {
namespace {

sockaddr_storage ip(const char* literal, int port = 0) {
  sockaddr_storage addr{};
  if (uv_ip4_addr(literal, port, reinterpret_cast<sockaddr_in*>(&addr)) != 0) {
    EXPECT_EQ(uv_ip6_addr(literal, port, reinterpret_cast<sockaddr_in6*>(&addr)), 0) << literal;
  }
  return addr;
}

std::string text(const sockaddr_storage& addr) {
  char buf[64] = {};
  if (addr.ss_family == AF_INET) {
    uv_ip4_name(reinterpret_cast<const sockaddr_in*>(&addr), buf, sizeof buf);
  } else {
    uv_ip6_name(reinterpret_cast<const sockaddr_in6*>(&addr), buf, sizeof buf);
  }
  return buf;
}

std::vector<std::string> texts(const AddressList& list) {
  std::vector<std::string> out;
  for (const auto& addr : list) out.push_back(text(addr));
  return out;
}

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

TEST(SameAddressTest, AddressesDifferingOnlyInPortAreTheSame) {
  EXPECT_TRUE(same_address(ip("127.0.0.1", 80), ip("127.0.0.1", 8080)));
  EXPECT_TRUE(same_address(ip("::1", 80), ip("::1", 443)));
}

TEST(SameAddressTest, DifferentAddressesOrFamiliesAreNotTheSame) {
  EXPECT_FALSE(same_address(ip("127.0.0.1"), ip("127.0.0.2")));
  EXPECT_FALSE(same_address(ip("::1"), ip("::2")));
  EXPECT_FALSE(same_address(ip("127.0.0.1"), ip("::ffff:127.0.0.1")));
}

TEST_F(DnsCacheTest, PinnedNameIsAnsweredWithItsAddressesInOrderWithoutALookup) {
  dns_.pin("api.test", {ip("127.0.0.2"), ip("::1"), ip("127.0.0.1")});
  DnsAnswer answer = resolve("api.test");
  ASSERT_EQ(answer.status, 0);
  EXPECT_EQ(texts(*answer.addresses), (std::vector<std::string>{"127.0.0.2", "::1", "127.0.0.1"}));
  EXPECT_EQ(dns_.lookups(), 0u);
}

TEST_F(DnsCacheTest, PinnedAddressesLoseTheirDuplicates) {
  dns_.pin("api.test", {ip("::1"), ip("127.0.0.1"), ip("::1"), ip("127.0.0.1", 80)});
  EXPECT_EQ(texts(*resolve("api.test").addresses), (std::vector<std::string>{"::1", "127.0.0.1"}));
}

TEST_F(DnsCacheTest, PinnedIpLiteralOverridesTheLiteral) {
  dns_.pin("127.0.0.1", {ip("127.0.0.3")});
  EXPECT_EQ(texts(*resolve("127.0.0.1").addresses), (std::vector<std::string>{"127.0.0.3"}));
}

TEST_F(DnsCacheTest, ClearKeepsPinnedNames) {
  dns_.pin("api.test", {ip("127.0.0.2")});
  dns_.clear();
  EXPECT_EQ(texts(*resolve("api.test").addresses), (std::vector<std::string>{"127.0.0.2"}));
  EXPECT_EQ(dns_.lookups(), 0u);
}

TEST_F(DnsCacheTest, PinningNoAddressesUnpinsTheName) {
  dns_.pin("no-such-host.invalid", {ip("127.0.0.2")});
  dns_.pin("no-such-host.invalid", {});
  EXPECT_EQ(resolve("no-such-host.invalid").status, UV_EAI_NONAME);
  EXPECT_EQ(dns_.lookups(), 1u);
}

TEST_F(DnsCacheTest, PreferredAddressMovesToTheFrontKeepingTheOthersInOrder) {
  dns_.pin("api.test", {ip("127.0.0.1"), ip("127.0.0.2"), ip("::1")});
  dns_.prefer("api.test", ip("::1", 8080));
  EXPECT_EQ(texts(*resolve("api.test").addresses), (std::vector<std::string>{"::1", "127.0.0.1", "127.0.0.2"}));
}

TEST_F(DnsCacheTest, PreferLeavesAnswersAlreadyHandedOutUnchanged) {
  dns_.pin("api.test", {ip("127.0.0.1"), ip("127.0.0.2")});
  DnsAnswer before = resolve("api.test");
  dns_.prefer("api.test", ip("127.0.0.2"));
  EXPECT_EQ(texts(*before.addresses), (std::vector<std::string>{"127.0.0.1", "127.0.0.2"}));
}

TEST_F(DnsCacheTest, PreferringAnUnlistedAddressChangesNothing) {
  dns_.pin("api.test", {ip("127.0.0.1"), ip("127.0.0.2")});
  dns_.prefer("api.test", ip("127.0.0.9"));
  dns_.prefer("other.test", ip("127.0.0.2"));
  EXPECT_EQ(texts(*resolve("api.test").addresses), (std::vector<std::string>{"127.0.0.1", "127.0.0.2"}));
}

}  // namespace
}  // namespace luaload::engine::net
