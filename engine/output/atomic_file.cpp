// SPDX-License-Identifier: MIT
// write_file_atomically() from summary_json.hpp. Output runs on the main thread after the workers stopped, so
// blocking file I/O is fine here.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "engine/output/summary_json.hpp"

namespace luaload::engine::output {
namespace {

bool write_all(int fd, const std::string& content) {
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool fail(std::string* error, const std::string& path, const char* step, int err) {
  if (error) *error = "cannot write " + path + ": " + step + ": " + std::strerror(err);
  return false;
}

}  // namespace

bool write_file_atomically(const std::string& path, const std::string& content, std::string* error) {
  // The temporary file sits in the target's directory so that rename() stays within one filesystem.
  std::string pattern = path + ".tmp.XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) return fail(error, path, "creating a temporary file", errno);
  const std::string temp(name.data());
  // mkstemp creates the file 0600; a report is an ordinary readable file. (Reading the umask would mean
  // changing it, which is process-wide and racy.)
  const bool written = ::fchmod(fd, 0644) == 0 && write_all(fd, content) && ::fsync(fd) == 0;
  const int write_errno = errno;
  ::close(fd);
  if (!written) {
    ::unlink(temp.c_str());
    return fail(error, path, "writing", write_errno);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    ::unlink(temp.c_str());
    return fail(error, path, "renaming", rename_errno);
  }
  return true;
}

}  // namespace luaload::engine::output
