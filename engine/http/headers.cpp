// SPDX-License-Identifier: MIT
#include "engine/http/headers.hpp"

#include <strings.h>

namespace luaload::engine::http {
namespace {

// Kept across clear(): a typical response head fits, a pathological one is let go.
constexpr size_t kKeptTextBytes = 2 * 1024;
constexpr size_t kKeptHeaders = 32;

}  // namespace

bool same_header_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

const std::string* find_header(const Headers& headers, std::string_view name) {
  for (const auto& header : headers) {
    if (same_header_name(header.first, name)) return &header.second;
  }
  return nullptr;
}

std::optional<std::string_view> ResponseHeaders::find(std::string_view name) const {
  for (size_t i = 0; i < spans_.size(); ++i) {
    Entry entry = (*this)[i];
    if (same_header_name(entry.name, name)) return entry.value;
  }
  return std::nullopt;
}

void ResponseHeaders::add(std::string_view name, std::string_view value) {
  start_header();
  append_name(name);
  append_value(value);
}

void ResponseHeaders::clear() {
  if (text_.capacity() > kKeptTextBytes) std::string().swap(text_);
  if (spans_.capacity() > kKeptHeaders) std::vector<Span>().swap(spans_);
  text_.clear();
  spans_.clear();
}

void ResponseHeaders::start_header() { spans_.push_back({static_cast<uint32_t>(text_.size()), 0, 0}); }

void ResponseHeaders::append_name(std::string_view piece) {
  text_.append(piece);
  spans_.back().name_length += static_cast<uint32_t>(piece.size());
}

void ResponseHeaders::append_value(std::string_view piece) {
  text_.append(piece);
  spans_.back().value_length += static_cast<uint32_t>(piece.size());
}

void ResponseHeaders::trim_value_end() {
  Span& span = spans_.back();
  while (span.value_length > 0 && (text_.back() == ' ' || text_.back() == '\t')) {
    text_.pop_back();
    --span.value_length;
  }
}

}  // namespace luaload::engine::http
