// SPDX-License-Identifier: MIT
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

// Reading back the files a test (or the binary it ran) wrote. Any thread; no state.
namespace luaload::test {

// The whole file, byte for byte; "" when it does not exist or cannot be read, so the assertion that follows fails
// with the content it expected rather than the test aborting.
std::string read_text(const std::filesystem::path& path);

// The file parsed as JSON (a summary export, a baseline); a discarded value (is_discarded()) when it is missing or
// not valid JSON, never an exception.
nlohmann::json read_json_file(const std::filesystem::path& path);

}  // namespace luaload::test
