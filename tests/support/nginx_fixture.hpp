// SPDX-License-Identifier: MIT
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace luaload::test {

struct NginxOptions {
  // PEM files for the optional TLS listener; both empty means HTTP only.
  std::filesystem::path tls_cert_file;
  std::filesystem::path tls_key_file;
};

// Debian's nginx (/usr/sbin/nginx), started as a single foreground process (no master, no daemon) with a config
// written into its own temporary directory, listening on 127.0.0.1 only. It serves:
//   /              a small HTML page (kIndexBody)
//   /json          a small JSON document (kJsonBody)
//   /big           a 1 MiB file of 'x' (kBigSize bytes)
//   /status/NNN    answers NNN for every code in kStatusCodes (3xx redirect to /, 204/304 have no body,
//                  others a "status NNN\n" body); any method is accepted there.
// Everything else is nginx's 404. Access logging is off; the error log is log_path().
//
// One test thread only. start() blocks for at most about 5 s per attempt; the destructor stops nginx (SIGQUIT,
// then SIGKILL after 3 s) and removes the directory.
class NginxServer {
 public:
  static constexpr std::string_view kBinary = "/usr/sbin/nginx";
  static constexpr std::string_view kIndexBody = "<html><body>luaload test page</body></html>\n";
  static constexpr std::string_view kJsonBody = "{\"name\":\"luaload\",\"ok\":true,\"items\":[1,2,3]}\n";
  static constexpr size_t kBigSize = 1 << 20;
  static constexpr int kStatusCodes[] = {200, 201, 204, 301, 302, 304, 400, 401, 403,
                                         404, 405, 429, 500, 502, 503};

  // True when the nginx binary exists and is executable.
  static bool available();

  explicit NginxServer(NginxOptions options = {});
  ~NginxServer();
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  // Picks free ports, starts nginx and waits until it accepts connections. Retries with new ports when another
  // process grabbed one in between. False with *error (including the tail of nginx's log) on failure.
  bool start(std::string* error);
  void stop();

  uint16_t http_port() const { return http_port_; }
  uint16_t https_port() const { return https_port_; }  // 0 without TLS
  // "http://127.0.0.1:PORT" + path (path starts with '/').
  std::string url(std::string_view path) const;
  std::string https_url(std::string_view path) const;
  const std::filesystem::path& directory() const { return dir_.path(); }
  std::filesystem::path log_path() const { return dir_.path() / "error.log"; }

 private:
  bool start_once(std::string* error, bool* port_clash);
  std::string render_config() const;
  void write_content() const;

  NginxOptions options_;
  TempDir dir_;
  BackgroundProcess process_;
  uint16_t http_port_ = 0;
  uint16_t https_port_ = 0;
};

// Test fixture: each test gets a running NginxServer in nginx(), or is skipped when nginx is not installed.
// Override options() to add TLS.
class NginxTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override { server_.reset(); }
  virtual NginxOptions options() { return {}; }
  NginxServer& nginx() { return *server_; }

 private:
  std::unique_ptr<NginxServer> server_;
};

// Finds a currently free TCP port on 127.0.0.1 by binding port 0 and closing the socket. Another process may take
// it before it is used: callers retry on EADDRINUSE. Returns 0 on failure.
uint16_t pick_free_port();

// Connects to 127.0.0.1:port once with a blocking socket; true when the connection was accepted.
bool can_connect(uint16_t port);

}  // namespace luaload::test
