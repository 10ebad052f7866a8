// SPDX-License-Identifier: MIT
// Which addresses a request dials: IPv6 literals, names with several addresses (injected with DnsCache::pin), the
// fallback past addresses that refuse, and the error once all of them failed.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "client_fixture.hpp"
#include "engine/core/clock.hpp"
#include "engine/http/client.hpp"

namespace luaload::engine::http {
namespace {

using test::http_response;

sockaddr_storage ip(const std::string& literal, uint16_t port = 0) {
  sockaddr_storage addr{};
  if (uv_ip4_addr(literal.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr)) != 0) {
    uv_ip6_addr(literal.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr));
  }
  return addr;
}

// A TCP socket bound to an address but not listening: the kernel refuses every connect to it, and nothing else can
// take the port while the test holds it.
class RefusingPort {
 public:
  explicit RefusingPort(const std::string& host, uint16_t port = 0) {
    sockaddr_storage addr = ip(host, port);
    fd_ = ::socket(addr.ss_family, SOCK_STREAM, 0);
    socklen_t len = addr.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), len) != 0) return;
    len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                             : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  ~RefusingPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  uint16_t port() const { return port_; }  // 0 when the bind failed

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A listener on `host` whose accept queue is full and never drained: the kernel drops further SYNs, so a connect
// to it neither succeeds nor fails (a silent address), all on loopback. silent() is false where that did not work.
class SilentListener {
 public:
  explicit SilentListener(const std::string& host = "127.0.0.1", uint16_t port = 0) {
    listener_ = open_fd(::socket(AF_INET, SOCK_STREAM, 0));
    sockaddr_storage addr = ip(host, port);
    socklen_t len = sizeof(sockaddr_in);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(listener_, 0) != 0) return;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    for (int i = 0; i < 8 && !silent_; ++i) silent_ = !connects(addr);
  }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  ~SilentListener() {
    for (int fd : fds_) ::close(fd);
  }
  bool silent() const { return silent_; }
  uint16_t port() const { return port_; }

 private:
  int open_fd(int fd) {
    if (fd >= 0) fds_.push_back(fd);
    return fd;
  }
  // Starts a non-blocking connect and waits up to 200 ms for it to complete.
  bool connects(const sockaddr_storage& addr) {
    int fd = open_fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(sockaddr_in)) == 0) return true;
    pollfd p{fd, POLLOUT, 0};
    return ::poll(&p, 1, 200) != 0;
  }

  std::vector<int> fds_;
  int listener_ = -1;
  uint16_t port_ = 0;
  bool silent_ = false;
};

class ClientAddressTest : public ClientFixture {
 protected:
  // A server on `host` at the port of a refusing socket on 127.0.0.1 (a few tries: the port may be taken there).
  test::MisbehavingServer* server_behind_refusal(const std::string& host) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      refusing_ = std::make_unique<RefusingPort>("127.0.0.1");
      if (refusing_->port() == 0) continue;
      servers_.push_back(std::make_unique<test::MisbehavingServer>(
          &loop_, std::vector<test::Reply>{{.bytes = http_response(200, "ok")}}, host, refusing_->port()));
      if (servers_.back()->listening()) return servers_.back().get();
    }
    return nullptr;
  }

  std::string url_for(const std::string& name, uint16_t port) {
    return "http://" + name + ":" + std::to_string(port) + "/";
  }

  std::unique_ptr<RefusingPort> refusing_;
};

TEST_F(ClientAddressTest, BracketedIpv6LiteralReachesAListenerOnIpv6Loopback) {
  servers_.push_back(std::make_unique<test::MisbehavingServer>(
      &loop_, std::vector<test::Reply>{{.bytes = http_response(200, "six")}}, "::1"));
  if (!servers_.back()->listening()) GTEST_SKIP() << "no IPv6 loopback on this machine";
  const uint16_t port = servers_.back()->port();
  Response response = get("http://[::1]:" + std::to_string(port) + "/");
  EXPECT_EQ(response.final.status, 200) << response.final.error;
  EXPECT_EQ(response.body, "six");
  EXPECT_NE(servers_.back()->last_request_head().find("\r\nHost: [::1]:" + std::to_string(port) + "\r\n"),
            std::string::npos)
      << servers_.back()->last_request_head();
}

TEST_F(ClientAddressTest, NameResolvingOnlyToIpv6IsServed) {
  servers_.push_back(std::make_unique<test::MisbehavingServer>(
      &loop_, std::vector<test::Reply>{{.bytes = http_response(200, "six")}}, "::1"));
  if (!servers_.back()->listening()) GTEST_SKIP() << "no IPv6 loopback on this machine";
  dns_.pin("six.test", {ip("::1")});
  Response response = get(url_for("six.test", servers_.back()->port()));
  EXPECT_EQ(response.final.status, 200) << response.final.error;
  EXPECT_EQ(response.body, "six");
}

TEST_F(ClientAddressTest, FirstAddressRefusingFallsBackToTheSecond) {
  test::MisbehavingServer* srv = server_behind_refusal("127.0.0.2");
  if (srv == nullptr) GTEST_SKIP() << "127.0.0.2 is not a loopback address on this machine";
  dns_.pin("two.test", {ip("127.0.0.1"), ip("127.0.0.2")});
  Response response = get(url_for("two.test", srv->port()));
  EXPECT_EQ(response.final.status, 200) << response.final.error;
  EXPECT_EQ(response.final.error_code, ErrorCode::None);
  EXPECT_EQ(srv->accepts(), 1u);
}

TEST_F(ClientAddressTest, RefusingIpv4AddressFallsBackToIpv6) {
  test::MisbehavingServer* srv = server_behind_refusal("::1");
  if (srv == nullptr) GTEST_SKIP() << "no IPv6 loopback on this machine";
  dns_.pin("dual.test", {ip("127.0.0.1"), ip("::1")});
  Response response = get(url_for("dual.test", srv->port()));
  EXPECT_EQ(response.final.status, 200) << response.final.error;
  EXPECT_EQ(srv->accepts(), 1u);
}

TEST_F(ClientAddressTest, AddressRejectedAtOnceFallsBackToTheNext) {
  test::MisbehavingServer& srv = server({{.bytes = http_response(200, "ok")}});
  dns_.pin("multi.test", {ip("224.0.0.1"), ip("127.0.0.1")});  // multicast: connect fails before anything is sent
  Response response = get(url_for("multi.test", srv.port()));
  EXPECT_EQ(response.final.status, 200) << response.final.error;
  EXPECT_EQ(srv.accepts(), 1u);
}

// The first address never answers: with a 3 s request timeout and two addresses, it gets 2 s (Go's minimum share)
// and the second address serves the request within the timeout.
TEST_F(ClientAddressTest, SilentAddressGetsOnlyItsShareOfTheTimeoutBeforeTheNextIsTried) {
  SilentListener silent;
  if (!silent.silent()) GTEST_SKIP() << "a full accept queue does not drop connects on this machine";
  servers_.push_back(std::make_unique<test::MisbehavingServer>(
      &loop_, std::vector<test::Reply>{{.bytes = http_response(200, "ok")}}, "127.0.0.2", silent.port()));
  if (!servers_.back()->listening()) GTEST_SKIP() << "127.0.0.2 is not a loopback address on this machine";
  dns_.pin("two.test", {ip("127.0.0.1"), ip("127.0.0.2")});
  Request request;
  request.url = url_for("two.test", silent.port());
  request.timeout_s = 3;
  Response response = fetch(std::move(request));
  EXPECT_EQ(response.final.status, 200) << response.final.error;
  EXPECT_GE(response.final.timing.blocked_ms, 1990.0);
  EXPECT_LT(response.final.timing.blocked_ms, 2900.0);
  EXPECT_LT(response.final.timing.connecting_ms, 900.0);
}

// The last attempt runs under the request deadline again: two silent addresses and a 2.5 s timeout end in a
// request timeout after 2.5 s (2 s for the first attempt, the rest for the second), not after 4 s.
TEST_F(ClientAddressTest, EveryAddressSilentEndsInTheRequestTimeout) {
  SilentListener first;
  if (!first.silent()) GTEST_SKIP() << "a full accept queue does not drop connects on this machine";
  SilentListener second("127.0.0.2", first.port());
  if (!second.silent()) GTEST_SKIP() << "127.0.0.2 is not a loopback address on this machine";
  dns_.pin("two.test", {ip("127.0.0.1"), ip("127.0.0.2")});
  Request request;
  request.url = url_for("two.test", first.port());
  request.timeout_s = 2.5;
  const int64_t start = core::mono_now_ns();
  Response response = fetch(std::move(request));
  const double elapsed_ms = static_cast<double>(core::mono_now_ns() - start) / 1e6;
  EXPECT_EQ(response.final.error_code, ErrorCode::RequestTimeout) << response.final.error;
  EXPECT_GE(elapsed_ms, 2490.0);
  EXPECT_LT(elapsed_ms, 3500.0);
}

TEST_F(ClientAddressTest, AddressThatAnsweredIsDialledFirstByTheNextConnection) {
  test::MisbehavingServer* srv = server_behind_refusal("127.0.0.2");
  if (srv == nullptr) GTEST_SKIP() << "127.0.0.2 is not a loopback address on this machine";
  dns_.pin("two.test", {ip("127.0.0.1"), ip("127.0.0.2")});
  ASSERT_EQ(get(url_for("two.test", srv->port())).final.status, 200);
  net::DnsAnswer answer;
  dns_.resolve("two.test", [&](const net::DnsAnswer& a) { answer = a; });
  ASSERT_TRUE(test::run_until(&loop_, [&] { return answer.addresses != nullptr; }));
  EXPECT_TRUE(net::same_address(answer.addresses->front(), ip("127.0.0.2")));
  EXPECT_EQ(answer.addresses->size(), 2u);
}

TEST_F(ClientAddressTest, EveryAddressRefusingFailsWithDialRefusedAfterTryingEach) {
  RefusingPort first("127.0.0.1");
  ASSERT_NE(first.port(), 0);
  RefusingPort second("127.0.0.2", first.port());
  if (second.port() == 0) GTEST_SKIP() << "127.0.0.2 is not a loopback address on this machine";
  dns_.pin("two.test", {ip("127.0.0.1"), ip("127.0.0.2")});
  Response response = get(url_for("two.test", first.port()));
  EXPECT_EQ(response.final.status, 0);
  EXPECT_EQ(response.final.error_code, ErrorCode::TcpDialRefused);
  EXPECT_EQ(response.final.error,
            "dial tcp two.test:" + std::to_string(first.port()) + ": connection refused (all 2 addresses failed)");
  settle();
  EXPECT_EQ(client().open_connections(), 0u);
}

// Cancelling at every point of a fallback (including while a failed socket is closing) completes the request
// exactly once, as cancelled, and leaves no handle open. Linux rejects a TCP connect to a multicast address at once
// (ENETUNREACH, nothing sent), which makes the socket close span loop turns a cancel can land in.
TEST_F(ClientAddressTest, CancelAtAnyPointOfTheFallbackCompletesTheRequestOnceAsCancelled) {
  RefusingPort refusing("127.0.0.1");
  ASSERT_NE(refusing.port(), 0);
  std::vector<sockaddr_storage> addresses;
  for (const char* host : {"224.0.0.1", "127.0.0.1", "224.0.0.2", "127.0.0.2", "224.0.0.3", "127.0.0.3"}) {
    addresses.push_back(ip(host));
  }
  dns_.pin("many.test", addresses);
  for (int steps = 0; steps < 16; ++steps) {
    int calls = 0;
    Response result;
    Request request;
    request.url = url_for("many.test", refusing.port());
    auto id = client().send(std::move(request), [&](Response&& r) {
      result = std::move(r);
      ++calls;
    });
    for (int i = 0; i < steps && calls == 0; ++i) uv_run(&loop_, UV_RUN_ONCE);
    const bool cancelled = calls == 0;
    if (cancelled) client().cancel(id);
    ASSERT_TRUE(test::run_until(&loop_, [&] { return calls > 0; }));
    settle();
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(result.final.error_code, cancelled ? ErrorCode::Cancelled : ErrorCode::TcpDialRefused) << steps;
    EXPECT_EQ(client().open_connections(), 0u);
  }
}

}  // namespace
}  // namespace luaload::engine::http
