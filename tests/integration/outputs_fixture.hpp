// SPDX-License-Identifier: MIT
// Shared helpers for the output tests: run the built binary with every output flag against nginx on 127.0.0.1,
// then read and parse the files it promised.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/blocking_http.hpp"
#include "support/files.hpp"
#include "support/mini_xml.hpp"
#include "support/nginx_fixture.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace luaload::test {

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class OutputsTest : public NginxTest {
 protected:
  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }

  // Every output flag, files in the test's directory.
  std::vector<std::string> output_flags() const {
    return {"--summary-export", path("summary.json"), "--out", "json=" + path("out.json"), "--out",
            "csv=" + path("out.csv"), "--junit", path("junit.xml")};
  }

  std::vector<std::string> argv(const std::string& script, std::vector<std::string> args) const {
    auto file = dir_.write_file("script.lua", script);
    std::vector<std::string> out = {LUALOAD_BINARY, "run", file.string(), "--quiet"};
    out.insert(out.end(), args.begin(), args.end());
    return out;
  }

  ProcessResult luaload(const std::string& script, std::vector<std::string> args) {
    return run_process(argv(script, std::move(args)), std::chrono::milliseconds(60'000));
  }

  // NDJSON lines, each parsed; a line that does not parse fails the test.
  std::vector<nlohmann::json> ndjson(const std::string& name) const {
    std::vector<nlohmann::json> out;
    for (const auto& line : split_lines(read_text(path(name)))) {
      out.push_back(nlohmann::json::parse(line, nullptr, false));
      EXPECT_FALSE(out.back().is_discarded()) << line;
    }
    return out;
  }

  // Asserts that every promised file exists, whole, under its own name, and that no temporary file is left.
  void expect_every_file_complete() const {
    auto summary = read_json_file(path("summary.json"));
    EXPECT_FALSE(summary.is_discarded()) << "summary.json";
    EXPECT_TRUE(summary.contains("metrics"));
    ndjson("out.json");
    EXPECT_EQ(read_text(path("out.csv")).rfind("metric_name,timestamp,metric_value,", 0), 0u);
    std::string error;
    EXPECT_TRUE(parse_xml(read_text(path("junit.xml")), &error)) << error;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
      EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
    }
  }

  TempDir dir_;
};

}  // namespace luaload::test
