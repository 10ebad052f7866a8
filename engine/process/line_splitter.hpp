// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace luaload::engine::process {

// One line of a child's stdout.
struct Line {
  std::string text;       // without its "\n" (and without a "\r" before it)
  bool overlong = false;  // longer than the limit: `text` is its first kOverlongPrefixBytes, the rest was dropped
};

// Cuts a byte stream into newline-terminated lines, holding at most `max_line_bytes` of an unfinished line: a
// longer line is reported once, as overlong with its beginning, and skipped up to its newline. Empty lines (and
// lines of only "\r") are skipped. Pure: no I/O, any thread.
class LineSplitter {
 public:
  static constexpr size_t kOverlongPrefixBytes = 256;

  explicit LineSplitter(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  // Calls `emit` for each line completed by `data`, in order.
  void feed(std::string_view data, const std::function<void(Line&&)>& emit);
  // The unfinished line at the end of the stream, if any (a child that exits without a final newline).
  void finish(const std::function<void(Line&&)>& emit);
  // Bytes of the unfinished line held.
  size_t pending_bytes() const { return partial_.size(); }

 private:
  void complete(const std::function<void(Line&&)>& emit);
  void append(std::string_view piece, const std::function<void(Line&&)>& emit);

  size_t max_line_bytes_;
  std::string partial_;
  bool skipping_ = false;  // inside an overlong line, already reported
};

// The last `capacity` bytes written to it (a child's stderr, for error messages). Memory stays under 2 * capacity.
class TailBuffer {
 public:
  explicit TailBuffer(size_t capacity) : capacity_(capacity) {}

  void append(std::string_view data);
  std::string tail() const;
  size_t total_bytes() const { return total_; }

 private:
  size_t capacity_;
  std::string buffer_;
  size_t total_ = 0;
};

}  // namespace luaload::engine::process
