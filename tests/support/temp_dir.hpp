// SPDX-License-Identifier: MIT
#pragma once

#include <filesystem>
#include <string_view>

namespace luaload::test {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it when the object is destroyed.
// Creation failure is fatal for the test process (LUALOAD_CHECK-style abort with a message): a test cannot do
// anything useful without its scratch space. Not thread-safe; owned by one test.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes content to path()/relative (creating parent folders) and returns the full path. Aborts on I/O failure.
  std::filesystem::path write_file(std::string_view relative, std::string_view content) const;

 private:
  std::filesystem::path path_;
};

}  // namespace luaload::test
