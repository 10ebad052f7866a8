// SPDX-License-Identifier: MIT
#include "engine/http/url.hpp"

#include <strings.h>

#include <cctype>
#include <charconv>
#include <vector>

namespace luaload::engine::http {
namespace {

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && strncasecmp(text.data(), prefix.data(), prefix.size()) == 0;
}

// Control characters and spaces would let a URL inject into the request line or headers.
bool has_forbidden_chars(std::string_view text) {
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool parse_port(std::string_view text, uint16_t* port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) return false;
  *port = static_cast<uint16_t>(value);
  return true;
}

bool parse_authority(std::string_view authority, Url* url) {
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(1, close - 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    if (!rest.empty()) port = rest.substr(1);
    if (host.find(':') == std::string_view::npos) return false;
  } else {
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
  }
  if (host.empty()) return false;
  url->port = url->https ? 443 : 80;
  if (!port.empty() && !parse_port(port, &url->port)) return false;
  url->host.assign(host);
  for (char& c : url->host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return true;
}

void fill_derived(Url* url) {
  bool ipv6 = url->host.find(':') != std::string::npos;
  url->host_header = ipv6 ? "[" + url->host + "]" : url->host;
  uint16_t default_port = url->https ? 443 : 80;
  if (url->port != default_port) url->host_header += ":" + std::to_string(url->port);
  url->origin = (url->https ? "https://" : "http://") + (ipv6 ? "[" + url->host + "]" : url->host) + ":" +
                std::to_string(url->port);
}

// RFC 3986 section 5.2.4, on the path only.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t pos = 1;  // path starts with '/'
  bool trailing_slash = false;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    std::string_view segment = path.substr(pos, next - pos);
    trailing_slash = (segment == "." || segment == "..");
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (segment != ".") {
      segments.push_back(segment);
    }
    pos = next + 1;
  }
  std::string out;
  for (auto segment : segments) {
    out += '/';
    out += segment;
  }
  if (trailing_slash || out.empty()) out += '/';
  return out;
}

std::string normalize_target(std::string_view target) {
  size_t query = target.find('?');
  std::string_view path = target.substr(0, query);
  std::string out = remove_dot_segments(path);
  if (query != std::string_view::npos) out.append(target.substr(query));
  return out;
}

}  // namespace

std::string Url::to_string() const { return (https ? "https://" : "http://") + host_header + target; }

std::optional<Url> parse_url(std::string_view text) {
  Url url;
  if (starts_with_nocase(text, "http://")) {
    text.remove_prefix(7);
  } else if (starts_with_nocase(text, "https://")) {
    url.https = true;
    text.remove_prefix(8);
  } else {
    return std::nullopt;
  }
  if (has_forbidden_chars(text)) return std::nullopt;
  text = text.substr(0, text.find('#'));
  size_t end = text.find_first_of("/?");
  if (!parse_authority(text.substr(0, end), &url)) return std::nullopt;
  std::string_view target = end == std::string_view::npos ? std::string_view() : text.substr(end);
  if (target.empty() || target.front() == '?') url.target = "/";
  url.target.append(target);
  fill_derived(&url);
  return url;
}

std::optional<Url> resolve_location(const Url& base, std::string_view location) {
  while (!location.empty() && (location.front() == ' ' || location.front() == '\t')) location.remove_prefix(1);
  while (!location.empty() && (location.back() == ' ' || location.back() == '\t')) location.remove_suffix(1);
  if (starts_with_nocase(location, "http://") || starts_with_nocase(location, "https://")) {
    return parse_url(location);
  }
  if (location.substr(0, 2) == "//") {
    return parse_url(std::string(base.https ? "https:" : "http:").append(location));
  }
  if (has_forbidden_chars(location)) return std::nullopt;
  location = location.substr(0, location.find('#'));
  if (location.find(':') < location.find_first_of("/?")) return std::nullopt;  // another scheme (mailto:, ftp:)
  Url url = base;
  std::string_view base_path = std::string_view(base.target).substr(0, base.target.find('?'));
  if (location.empty()) {
    url.target = base.target;
  } else if (location.front() == '/') {
    url.target = normalize_target(location);
  } else if (location.front() == '?') {
    url.target = std::string(base_path).append(location);
  } else {
    std::string merged(base_path.substr(0, base_path.rfind('/') + 1));
    url.target = normalize_target(merged.append(location));
  }
  return url;
}

}  // namespace luaload::engine::http
