// SPDX-License-Identifier: MIT
#include "engine/process/line_splitter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace luaload::test {
namespace {

using engine::process::Line;
using engine::process::LineSplitter;
using engine::process::TailBuffer;

struct Collected {
  std::vector<std::string> texts;
  std::vector<bool> overlong;
  void operator()(Line&& line) {
    texts.push_back(line.text);
    overlong.push_back(line.overlong);
  }
};

TEST(LineSplitter, JoinsLinesSplitAcrossReads) {
  LineSplitter splitter(100);
  Collected got;
  auto emit = [&](Line&& line) { got(std::move(line)); };
  splitter.feed("{\"a\":", emit);
  splitter.feed("1}\n{\"b\"", emit);
  splitter.feed(":2}\n", emit);
  EXPECT_EQ(got.texts, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_EQ(splitter.pending_bytes(), 0u);
}

TEST(LineSplitter, DropsCarriageReturnsAndSkipsEmptyLines) {
  LineSplitter splitter(100);
  Collected got;
  splitter.feed("a\r\n\n\r\nb\n", [&](Line&& line) { got(std::move(line)); });
  EXPECT_EQ(got.texts, (std::vector<std::string>{"a", "b"}));
}

TEST(LineSplitter, FinishEmitsAnUnterminatedLastLine) {
  LineSplitter splitter(100);
  Collected got;
  auto emit = [&](Line&& line) { got(std::move(line)); };
  splitter.feed("x\ny", emit);
  splitter.finish(emit);
  EXPECT_EQ(got.texts, (std::vector<std::string>{"x", "y"}));
}

TEST(LineSplitter, AnOverlongLineIsReportedOnceWithItsStartAcrossReads) {
  LineSplitter splitter(300);
  Collected got;
  auto emit = [&](Line&& line) { got(std::move(line)); };
  splitter.feed(std::string(200, 'a'), emit);
  splitter.feed(std::string(200, 'b'), emit);
  EXPECT_LE(splitter.pending_bytes(), 0u);  // nothing held once it is known to be too long
  splitter.feed(std::string(1000, 'c') + "\nnext\n", emit);
  ASSERT_EQ(got.texts.size(), 2u);
  EXPECT_TRUE(got.overlong[0]);
  EXPECT_EQ(got.texts[0], std::string(200, 'a') + std::string(56, 'b'));
  EXPECT_FALSE(got.overlong[1]);
  EXPECT_EQ(got.texts[1], "next");
}

TEST(LineSplitter, ALineOfExactlyTheLimitIsKept) {
  LineSplitter splitter(10);
  Collected got;
  splitter.feed("0123456789\n", [&](Line&& line) { got(std::move(line)); });
  ASSERT_EQ(got.texts.size(), 1u);
  EXPECT_FALSE(got.overlong[0]);
}

TEST(TailBuffer, KeepsTheLastBytesOnly) {
  TailBuffer tail(8);
  tail.append("0123");
  EXPECT_EQ(tail.tail(), "0123");
  for (int i = 0; i < 10; ++i) tail.append("abc");
  EXPECT_EQ(tail.tail(), "bcabcabc");
  tail.append("a much longer piece");
  EXPECT_EQ(tail.tail(), "er piece");
  EXPECT_EQ(tail.tail().size(), 8u);
  EXPECT_EQ(tail.total_bytes(), 4u + 30u + 19u);
}

}  // namespace
}  // namespace luaload::test
