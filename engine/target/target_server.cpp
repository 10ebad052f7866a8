// SPDX-License-Identifier: MIT
#include "engine/target/target_server.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "engine/loop/worker.hpp"
#include "engine/target/server_state.hpp"
#include "engine/target/server_thread.hpp"
#include "engine/tls/server_context.hpp"

namespace luaload::engine::target {
namespace {

constexpr int kMaxThreads = 256;
constexpr int kBacklog = 1024;

bool parse_address(const std::string& host, int port, sockaddr_storage* out) {
  std::memset(out, 0, sizeof(*out));
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(out)) == 0) return true;
  return uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(out)) == 0;
}

void set_port(sockaddr_storage* addr, int port) {
  if (addr->ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(addr)->sin_port = htons(static_cast<uint16_t>(port));
  } else {
    reinterpret_cast<sockaddr_in6*>(addr)->sin6_port = htons(static_cast<uint16_t>(port));
  }
}

// libuv 1.44 has no SO_REUSEPORT flag for uv_tcp_bind, so the socket is made here and adopted with uv_tcp_open.
int listen_socket(const sockaddr_storage& addr, std::string* error) {
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return *error = std::string("socket: ") + std::strerror(errno), -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  socklen_t len = addr.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0 || ::listen(fd, kBacklog) != 0) {
    *error = std::string("cannot listen: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

// SO_REUSEPORT would let our sockets join a port that another luaload target (same user) already listens on, and
// the kernel would then split the connections between the two servers without a word. A plain bind first makes a
// port in use an error, as for any other server.
bool port_is_free(const sockaddr_storage& addr, const std::string& where, std::string* error) {
  int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return *error = std::string("socket: ") + std::strerror(errno), false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));  // TIME_WAIT leftovers do not count as in use
  socklen_t len = addr.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  bool free = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) == 0;
  if (!free) *error = "cannot listen on " + where + ": " + std::strerror(errno);
  ::close(fd);
  return free;
}

int bound_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}

std::string validate(const TargetOptions& options) {
  if (options.threads < 1 || options.threads > kMaxThreads) return "--threads must be between 1 and 256";
  if (options.port < 0 || options.port > 65535) return "port must be between 0 and 65535";
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return "--tls-cert and --tls-key must be given together";
  }
  if (options.token_ttl_ms <= 0) return "--token-ttl must be positive";
  return {};
}

}  // namespace

std::unique_ptr<TargetServer> TargetServer::create(const TargetOptions& options, std::string* error) {
  *error = validate(options);
  if (!error->empty()) return nullptr;
  sockaddr_storage addr;
  if (!parse_address(options.host, options.port, &addr)) {
    *error = "invalid listen address: " + options.host;
    return nullptr;
  }
  std::unique_ptr<TargetServer> server(new TargetServer());
  if (!options.tls_cert_file.empty()) {
    server->tls_ = tls::ServerContext::create(options.tls_cert_file, options.tls_key_file, error);
    if (!server->tls_) return nullptr;
  }
  bool v6 = options.host.find(':') != std::string::npos;
  std::string where = (v6 ? "[" + options.host + "]" : options.host) + ":" + std::to_string(options.port);
  if (options.port != 0 && !port_is_free(addr, where, error)) return nullptr;
  std::vector<int> fds;
  for (int i = 0; i < options.threads; ++i) {
    int fd = listen_socket(addr, error);
    if (fd < 0) {
      for (int open_fd : fds) ::close(open_fd);
      return nullptr;
    }
    // Port 0: the first bind picks the port, the others join it.
    if (i == 0) set_port(&addr, bound_port(fd));
    fds.push_back(fd);
  }
  server->host_ = options.host;
  server->port_ = bound_port(fds[0]);
  server->state_ = std::make_unique<ServerState>(options);
  server->start_threads(fds);
  return server;
}

void TargetServer::start_threads(const std::vector<int>& fds) {
  for (size_t i = 0; i < fds.size(); ++i) {
    auto thread = std::make_unique<ServerThread>(*state_, tls_.get());
    auto worker = std::make_unique<loop::Worker>("target-" + std::to_string(i));
    ServerThread* t = thread.get();
    loop::Worker* w = worker.get();
    int fd = fds[i];
    w->start(
        [t, w, fd] {
          if (!t->open(w->loop(), fd)) std::fprintf(stderr, "luaload target: cannot accept on thread %s\n",
                                                    w->name().c_str());
        },
        [t] { t->close(); });
    threads_.push_back(std::move(thread));
    workers_.push_back(std::move(worker));
  }
}

TargetServer::~TargetServer() { stop(); }

std::string TargetServer::url() const {
  std::string scheme = tls_ ? "https://" : "http://";
  bool v6 = host_.find(':') != std::string::npos;
  return scheme + (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_);
}

bool TargetServer::stop() {
  if (stopped_) return clean_;
  stopped_ = true;
  for (auto& worker : workers_) worker->request_stop();
  for (auto& worker : workers_) clean_ = worker->join() && clean_;
  workers_.clear();
  threads_.clear();
  return clean_;
}

}  // namespace luaload::engine::target
