// SPDX-License-Identifier: MIT
#include "engine/output/stream_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace luaload::engine::output {

StreamFile::~StreamFile() { discard(); }

bool StreamFile::open(const std::string& path, std::string* error) {
  path_ = path;
  std::string pattern = path + ".tmp.XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  fd_ = ::mkstemp(name.data());
  if (fd_ < 0) {
    if (error) *error = "cannot write " + path + ": creating a temporary file: " + std::strerror(errno);
    return false;
  }
  temp_path_ = name.data();
  // mkstemp creates the file 0600; an output is an ordinary readable file.
  ::fchmod(fd_, 0644);
  buffer_.reserve(kFlushBytes + 4096);
  return true;
}

void StreamFile::write(std::string_view data) {
  if (fd_ < 0) return;
  buffer_.append(data);
  maybe_flush();
}

void StreamFile::flush() {
  size_t done = 0;
  while (fd_ >= 0 && write_errno_ == 0 && done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      write_errno_ = n < 0 ? errno : EIO;
      break;
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
}

bool StreamFile::commit(std::string* error) {
  if (!committed_ && fd_ >= 0) {
    committed_ = true;
    flush();
    if (write_errno_ == 0 && ::fsync(fd_) != 0) write_errno_ = errno;
    ::close(fd_);
    fd_ = -1;
    if (write_errno_ != 0) {
      commit_error_ = "cannot write " + path_ + ": writing: " + std::strerror(write_errno_);
    } else if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
      commit_error_ = "cannot write " + path_ + ": renaming: " + std::strerror(errno);
    } else {
      commit_ok_ = true;
      temp_path_.clear();
    }
    discard();
  }
  if (!commit_ok_ && error) *error = commit_error_.empty() ? "cannot write " + path_ + ": not open" : commit_error_;
  return commit_ok_;
}

void StreamFile::discard() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
  }
}

}  // namespace luaload::engine::output
