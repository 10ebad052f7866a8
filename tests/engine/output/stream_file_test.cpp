// SPDX-License-Identifier: MIT
#include "engine/output/stream_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace luaload::engine::output {
namespace {

namespace fs = std::filesystem;

size_t entries(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(StreamFile, ThePromisedPathAppearsOnlyOnCommit) {
  test::TempDir dir;
  const std::string path = (dir.path() / "out.json").string();
  StreamFile file;
  ASSERT_TRUE(file.open(path, nullptr));
  file.write("line 1\n");
  EXPECT_FALSE(fs::exists(path));
  std::string error;
  ASSERT_TRUE(file.commit(&error)) << error;
  EXPECT_EQ(luaload::test::read_text(path), "line 1\n");
  EXPECT_EQ(entries(dir.path()), 1u);
}

TEST(StreamFile, WritesMoreThanItsBufferInOrder) {
  test::TempDir dir;
  const std::string path = (dir.path() / "big.csv").string();
  StreamFile file;
  ASSERT_TRUE(file.open(path, nullptr));
  std::string expected;
  for (int i = 0; i < 100'000; ++i) {
    std::string line = std::to_string(i) + "\n";
    expected += line;
    file.buffer() += line;
    file.maybe_flush();
  }
  ASSERT_TRUE(file.commit(nullptr));
  EXPECT_EQ(luaload::test::read_text(path), expected);
}

TEST(StreamFile, AnUncommittedFileLeavesNothingBehind) {
  test::TempDir dir;
  {
    StreamFile file;
    ASSERT_TRUE(file.open((dir.path() / "out.json").string(), nullptr));
    file.write("partial");
  }
  EXPECT_EQ(entries(dir.path()), 0u);
}

TEST(StreamFile, OpeningInAMissingDirectoryFailsWithTheReason) {
  test::TempDir dir;
  StreamFile file;
  std::string error;
  EXPECT_FALSE(file.open((dir.path() / "missing" / "out.json").string(), &error));
  EXPECT_NE(error.find("No such file or directory"), std::string::npos) << error;
}

TEST(StreamFile, CommitTwiceReturnsTheFirstResult) {
  test::TempDir dir;
  StreamFile file;
  ASSERT_TRUE(file.open((dir.path() / "x").string(), nullptr));
  EXPECT_TRUE(file.commit(nullptr));
  EXPECT_TRUE(file.commit(nullptr));
}

}  // namespace
}  // namespace luaload::engine::output
