// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace luaload::engine::target {

// One parsed request, owned by its connection and reused for the next one (clear() keeps the capacity).
// Valid for handlers until their exchange ends (respond() or end_stream()).
struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // request-target as sent: "/path?query"
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, values as sent
  std::string body;     // de-chunked
  int http_minor = 1;   // HTTP/1.<minor>
  bool keep_alive = true;

  std::string_view path() const {
    std::string_view t = target;
    return t.substr(0, t.find('?'));
  }
  std::string_view query() const {
    size_t q = target.find('?');
    return q == std::string::npos ? std::string_view{} : std::string_view(target).substr(q + 1);
  }
  // First header with that name; `lower_name` must be lower case. nullptr when absent.
  const std::string* header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) return &value;
    }
    return nullptr;
  }
  void clear() {
    method.clear();
    target.clear();
    headers.clear();
    body.clear();
    http_minor = 1;
    keep_alive = true;
  }
};

}  // namespace luaload::engine::target
