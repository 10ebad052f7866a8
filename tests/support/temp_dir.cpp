// SPDX-License-Identifier: MIT
#include "support/temp_dir.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>

namespace luaload::test {
namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "TempDir: %s\n", what.c_str());
  std::abort();
}

std::filesystem::path temp_root() {
  const char* env = std::getenv("TMPDIR");
  return (env != nullptr && env[0] != '\0') ? std::filesystem::path(env) : std::filesystem::path("/tmp");
}

}  // namespace

TempDir::TempDir() {
  std::string pattern = (temp_root() / "luaload-test-XXXXXX").string();
  // mkdtemp picks a name nobody else holds, so parallel ctest processes never share a directory.
  if (::mkdtemp(pattern.data()) == nullptr) {
    die("mkdtemp(" + pattern + "): " + std::strerror(errno));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path TempDir::write_file(std::string_view relative, std::string_view content) const {
  const std::filesystem::path full = path_ / relative;
  std::error_code ec;
  std::filesystem::create_directories(full.parent_path(), ec);
  if (ec) {
    die("create_directories(" + full.parent_path().string() + "): " + ec.message());
  }
  std::ofstream out(full, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  out.close();
  if (!out) {
    die("cannot write " + full.string());
  }
  return full;
}

}  // namespace luaload::test
