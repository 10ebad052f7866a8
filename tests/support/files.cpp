// SPDX-License-Identifier: MIT
#include "support/files.hpp"

#include <fstream>
#include <sstream>

namespace luaload::test {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

nlohmann::json read_json_file(const std::filesystem::path& path) {
  return nlohmann::json::parse(read_text(path), nullptr, false);
}

}  // namespace luaload::test
