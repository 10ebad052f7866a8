// SPDX-License-Identifier: MIT
#include "support/nginx_fixture.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "support/files.hpp"

namespace luaload::test {
namespace {

constexpr int kStartAttempts = 5;
constexpr std::chrono::milliseconds kStartTimeout{5000};
constexpr std::chrono::milliseconds kStopGrace{3000};
constexpr std::chrono::milliseconds kReadyPoll{20};

sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

std::string tail(const std::string& text, size_t max) {
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

// The status locations: redirects need a target, 204/304 must not have a body, the rest say who they are.
std::string status_locations() {
  std::string out;
  for (int code : NginxServer::kStatusCodes) {
    const std::string n = std::to_string(code);
    out += "    location = /status/" + n + " { ";
    if (code >= 300 && code < 400 && code != 304) {
      out += "return " + n + " /; }\n";
    } else if (code == 204 || code == 304) {
      out += "return " + n + "; }\n";
    } else {
      out += "default_type text/plain; return " + n + " \"status " + n + "\\n\"; }\n";
    }
  }
  return out;
}

}  // namespace

uint16_t pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr = loopback(0);
  socklen_t len = sizeof(addr);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

bool can_connect(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_in addr = loopback(port);
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

bool NginxServer::available() { return ::access(std::string(kBinary).c_str(), X_OK) == 0; }

NginxServer::NginxServer(NginxOptions options) : options_(std::move(options)) {}

NginxServer::~NginxServer() { stop(); }

std::string NginxServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(http_port_) + std::string(path);
}

std::string NginxServer::https_url(std::string_view path) const {
  return "https://127.0.0.1:" + std::to_string(https_port_) + std::string(path);
}

void NginxServer::write_content() const {
  dir_.write_file("www/index.html", kIndexBody);
  dir_.write_file("www/data.json", kJsonBody);
  dir_.write_file("www/big.bin", std::string(kBigSize, 'x'));
  std::filesystem::create_directories(dir_.path() / "tmp");
}

std::string NginxServer::render_config() const {
  const std::string d = dir_.path().string();
  std::string c;
  c += "daemon off;\nmaster_process off;\nworker_processes 1;\n";
  c += "pid " + d + "/nginx.pid;\nerror_log " + d + "/error.log warn;\n";
  c += "events { worker_connections 1024; }\n";
  c += "http {\n  access_log off;\n  default_type application/octet-stream;\n";
  c += "  types { text/html html; application/json json; }\n";
  // Debian's compiled-in temp paths live under /var/lib/nginx, which may not exist or be writable in a test.
  for (const char* kind : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    c += "  " + std::string(kind) + "_temp_path " + d + "/tmp/" + kind + ";\n";
  }
  c += "  server {\n    listen 127.0.0.1:" + std::to_string(http_port_) + ";\n";
  if (https_port_ != 0) {
    c += "    listen 127.0.0.1:" + std::to_string(https_port_) + " ssl;\n";
    c += "    ssl_certificate " + options_.tls_cert_file.string() + ";\n";
    c += "    ssl_certificate_key " + options_.tls_key_file.string() + ";\n";
  }
  c += "    root " + d + "/www;\n    index index.html;\n";
  c += "    location = /json { default_type application/json; alias " + d + "/www/data.json; }\n";
  c += "    location = /big { default_type application/octet-stream; alias " + d + "/www/big.bin; }\n";
  c += status_locations();
  c += "  }\n}\n";
  return c;
}

bool NginxServer::start(std::string* error) {
  if (!available()) {
    *error = std::string(kBinary) + " not found (install nginx-light)";
    return false;
  }
  write_content();
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    bool port_clash = false;
    if (start_once(error, &port_clash)) return true;
    if (!port_clash) return false;
  }
  return false;
}

bool NginxServer::start_once(std::string* error, bool* port_clash) {
  http_port_ = pick_free_port();
  https_port_ = 0;
  // Two bind-to-0 calls in a row may return the same port; nginx would reject the duplicate listen.
  for (int i = 0; i < 10 && !options_.tls_cert_file.empty() && (https_port_ == 0 || https_port_ == http_port_); ++i) {
    https_port_ = pick_free_port();
  }
  const std::filesystem::path conf = dir_.write_file("nginx.conf", render_config());
  std::filesystem::remove(dir_.path() / "nginx.pid");
  const std::string prefix = dir_.path().string() + "/";
  const std::vector<std::string> argv{std::string(kBinary), "-p", prefix, "-c", conf.string(), "-e",
                                      log_path().string()};
  if (!process_.start(argv, dir_.path() / "stdio.log", error)) return false;

  // nginx writes its pid file only after it has bound every listener, so pid file + accepted connection means
  // ready, and a port held by someone else cannot be mistaken for ours.
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_.running()) {
      const std::string log = read_text(log_path()) + read_text(dir_.path() / "stdio.log");
      *port_clash = log.find("Address already in use") != std::string::npos;
      *error = "nginx exited during startup: " + tail(log, 2000);
      return false;
    }
    const bool pid_written = std::filesystem::exists(dir_.path() / "nginx.pid");
    if (pid_written && can_connect(http_port_) && (https_port_ == 0 || can_connect(https_port_))) return true;
    std::this_thread::sleep_for(kReadyPoll);
  }
  process_.stop(SIGKILL, kStopGrace);
  *error = "nginx did not accept connections within 5 s: " + tail(read_text(log_path()), 2000);
  return false;
}

void NginxServer::stop() { process_.stop(SIGQUIT, kStopGrace); }

void NginxTest::SetUp() {
  if (!NginxServer::available()) {
    GTEST_SKIP() << "nginx is not installed at " << NginxServer::kBinary << " (apt-get install nginx-light)";
  }
  server_ = std::make_unique<NginxServer>(options());
  std::string error;
  ASSERT_TRUE(server_->start(&error)) << error;
}

}  // namespace luaload::test
