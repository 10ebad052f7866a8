// SPDX-License-Identifier: MIT
#pragma once

#include <string>
#include <string_view>

namespace luaload::engine::output {

// A file written progressively during a run and published atomically at the end: the data goes to a temporary
// file next to `path` (same directory, so rename() stays on one filesystem), and commit() flushes, fsyncs and
// renames it over `path`. Until then `path` is untouched; a run that dies without committing leaves no
// half-written file under the promised name. Writes are buffered (flushed past kFlushBytes), so memory is bounded.
// Main thread only; blocking file I/O (the main thread is not the load-generating path).
//
// States: closed -> open() -> open -> commit() -> committed | (error: failed). Destroying an uncommitted file
// removes its temporary file.
class StreamFile {
 public:
  static constexpr size_t kFlushBytes = 256 * 1024;

  StreamFile() = default;
  ~StreamFile();
  StreamFile(const StreamFile&) = delete;
  StreamFile& operator=(const StreamFile&) = delete;

  // Creates the temporary file. False with `error` naming the path and the cause (missing directory, rights).
  bool open(const std::string& path, std::string* error);
  // Appends; a write error is remembered and reported by commit(). Ignored unless open.
  void write(std::string_view data);
  // The caller's buffer, appended to directly and flushed by maybe_flush(): saves a copy per line.
  std::string& buffer() { return buffer_; }
  void maybe_flush() {
    if (buffer_.size() >= kFlushBytes) flush();
  }
  // Writes the rest, fsyncs, renames over the path. False with `error` when any write failed or on rename errors
  // (the temporary file is then removed). Idempotent: a second call returns the first result.
  bool commit(std::string* error);

  const std::string& path() const { return path_; }
  bool is_open() const { return fd_ >= 0; }

 private:
  void flush();
  void discard();

  std::string path_;
  std::string temp_path_;
  std::string buffer_;
  int fd_ = -1;
  int write_errno_ = 0;
  bool committed_ = false;
  bool commit_ok_ = false;
  std::string commit_error_;
};

}  // namespace luaload::engine::output
