// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace luaload::engine::http {

// Request headers: names keep the case they were given; lookups are case-insensitive (find_header).
using Header = std::pair<std::string, std::string>;
using Headers = std::vector<Header>;

// Header names compare case-insensitively (RFC 9110 5.1).
bool same_header_name(std::string_view a, std::string_view b);

// Returns the first value whose name matches case-insensitively, or nullptr.
const std::string* find_header(const Headers& headers, std::string_view name);

// A response's headers, in arrival order, names as the server sent them. All names and values live in one buffer
// and entries are offsets into it: a reused ResponseHeaders takes a whole response head without allocating, where
// a string pair per header cost an allocation for every value longer than the small-string buffer (dates, ETags).
// Views returned by the accessors are valid until the next change.
class ResponseHeaders {
 public:
  struct Entry {
    std::string_view name;
    std::string_view value;
    bool operator==(const Entry&) const = default;
  };

  class Iterator {
   public:
    Iterator(const ResponseHeaders* headers, size_t index) : headers_(headers), index_(index) {}
    Entry operator*() const { return (*headers_)[index_]; }
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    bool operator!=(const Iterator& other) const { return index_ != other.index_; }

   private:
    const ResponseHeaders* headers_;
    size_t index_;
  };

  size_t size() const { return spans_.size(); }
  bool empty() const { return spans_.empty(); }
  Entry operator[](size_t index) const {
    const Span& span = spans_[index];
    const char* name = text_.data() + span.name_offset;
    return {{name, span.name_length}, {name + span.name_length, span.value_length}};
  }
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, spans_.size()}; }
  // The first value whose name matches case-insensitively.
  std::optional<std::string_view> find(std::string_view name) const;
  // Every name and value, back to back in arrival order: the buffer the entries' views point into.
  std::string_view text() const { return text_; }

  void add(std::string_view name, std::string_view value);
  // Forgets every header, keeping the buffers. Big buffers (a response with huge headers) are released so that a
  // reused object does not pin them.
  void clear();

  // Building a header from pieces, as a parser delivers them: start_header(), then name and value pieces.
  void start_header();
  void append_name(std::string_view piece);
  void append_value(std::string_view piece);
  // Drops spaces and tabs at the end of the last value (optional whitespace, RFC 9110 5.5).
  void trim_value_end();

 private:
  struct Span {
    uint32_t name_offset = 0;
    uint32_t name_length = 0;
    uint32_t value_length = 0;  // the value follows the name in text_
  };

  std::string text_;
  std::vector<Span> spans_;
};

}  // namespace luaload::engine::http
