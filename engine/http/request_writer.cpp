// SPDX-License-Identifier: MIT
#include "engine/http/request_writer.hpp"

#include <charconv>

namespace luaload::engine::http {
namespace {

bool method_expects_body(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

void append_header(std::string* out, std::string_view name, std::string_view value) {
  out->append(name);
  out->append(": ", 2);
  out->append(value);
  out->append("\r\n", 2);
}

}  // namespace

void write_request_head(std::string_view method, const Url& url, const Headers& headers, std::string_view body,
                        std::string* out) {
  out->append(method);
  out->push_back(' ');
  out->append(url.target);
  out->append(" HTTP/1.1\r\n", 11);
  bool has_host = false, has_agent = false, has_length = false;
  for (const auto& [name, value] : headers) {
    append_header(out, name, value);
    // Checked in the same pass that writes them: one walk over the user's headers per request.
    has_host = has_host || same_header_name(name, "host");
    has_agent = has_agent || same_header_name(name, "user-agent");
    has_length =
        has_length || same_header_name(name, "content-length") || same_header_name(name, "transfer-encoding");
  }
  if (!has_host) append_header(out, "Host", url.host_header);
  if (!has_agent) append_header(out, "User-Agent", kDefaultUserAgent);
  if (!has_length && (!body.empty() || method_expects_body(method))) {
    char digits[24];
    auto result = std::to_chars(digits, digits + sizeof digits, body.size());
    append_header(out, "Content-Length", std::string_view(digits, result.ptr - digits));
  }
  out->append("\r\n", 2);
}

}  // namespace luaload::engine::http
