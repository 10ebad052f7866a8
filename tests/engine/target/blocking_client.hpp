// SPDX-License-Identifier: MIT
#pragma once

// A deliberately simple blocking HTTP/1.1 client for the target server tests: it is independent of engine/http so
// that the server is checked against a second, obvious implementation. Every read has a 5 s timeout.
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>

#include "support/blocking_http.hpp"

namespace luaload::test {

struct HttpResponse {
  int status = 0;  // 0: the connection closed or timed out before a complete head
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;                            // de-chunked
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class BlockingClient {
 public:
  explicit BlockingClient(int port, int timeout_ms = 5000)
      : fd_(connect_loopback(static_cast<uint16_t>(port), timeout_ms)), connected_(fd_ >= 0) {}
  ~BlockingClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  bool send(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // Closes with SO_LINGER 0: the server sees a connection reset instead of an orderly close.
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    ::close(fd_);
    fd_ = -1;
  }

  // Sends a request with Content-Length (when there is a body) and reads its response.
  HttpResponse request(const std::string& method, const std::string& target, const std::string& extra_headers = "",
                       const std::string& body = "") {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers;
    if (!body.empty() || method == "POST") req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    if (!send(req)) return {};
    return read_response(method == "HEAD");
  }

  HttpResponse read_response(bool head_request = false) {
    HttpResponse res;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return res;
    }
    parse_head(buffer_.substr(0, end), &res);
    buffer_.erase(0, end + 4);
    if (head_request || res.status == 204 || res.status == 304 || (res.status >= 100 && res.status < 200)) return res;
    if (res.header("transfer-encoding") == "chunked") {
      if (!read_chunked(&res.body)) res.status = 0;
    } else if (!res.header("content-length").empty()) {
      size_t length = std::stoul(res.header("content-length"));
      while (buffer_.size() < length) {
        if (!fill()) return res.status = 0, res;
      }
      res.body = buffer_.substr(0, length);
      buffer_.erase(0, length);
    } else {
      while (fill()) {
      }
      res.body.swap(buffer_);
    }
    return res;
  }

  // Raw bytes until `marker` has been seen (returns everything read so far, including what follows the marker).
  std::string read_until(const std::string& marker) {
    while (buffer_.find(marker) == std::string::npos) {
      if (!fill()) break;
    }
    std::string out;
    out.swap(buffer_);
    return out;
  }

  // True when the server closed the connection (EOF or reset) before the read timeout, with no more data.
  bool closed_by_peer() {
    char c;
    ssize_t n = ::recv(fd_, &c, 1, 0);
    if (n == 0) return true;
    if (n < 0) return errno == ECONNRESET;
    buffer_.push_back(c);
    return false;
  }

 private:
  bool fill() {
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  static void parse_head(const std::string& head, HttpResponse* res) {
    size_t line_end = head.find("\r\n");
    std::string status_line = head.substr(0, line_end);
    if (status_line.size() >= 12) res->status = std::atoi(status_line.c_str() + 9);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t next = head.find("\r\n", pos);
      if (next == std::string::npos) next = head.size();
      std::string line = head.substr(pos, next - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t v = line.find_first_not_of(' ', colon + 1);
        res->headers[name] = v == std::string::npos ? "" : line.substr(v);
      }
      pos = next + 2;
    }
  }

  bool read_chunked(std::string* body) {
    for (;;) {
      size_t eol;
      while ((eol = buffer_.find("\r\n")) == std::string::npos) {
        if (!fill()) return false;
      }
      size_t size = std::stoul(buffer_.substr(0, eol), nullptr, 16);
      while (buffer_.size() < eol + 2 + size + 2) {
        if (!fill()) return false;
      }
      body->append(buffer_, eol + 2, size);
      buffer_.erase(0, eol + 2 + size + 2);
      if (size == 0) return true;
    }
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

}  // namespace luaload::test
