// SPDX-License-Identifier: MIT
#include "engine/http/headers.hpp"

#include <gtest/gtest.h>

#include <string>

namespace luaload::engine::http {
namespace {

TEST(ResponseHeadersTest, EntriesKeepArrivalOrderAndTheNamesCase) {
  ResponseHeaders headers;
  headers.add("Content-Type", "text/plain");
  headers.add("X-Two", "a");
  headers.add("x-two", "b");
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(headers[0], (ResponseHeaders::Entry{"Content-Type", "text/plain"}));
  EXPECT_EQ(headers[2], (ResponseHeaders::Entry{"x-two", "b"}));
  std::string joined;
  for (const auto& [name, value] : headers) joined += std::string(name) + "=" + std::string(value) + ";";
  EXPECT_EQ(joined, "Content-Type=text/plain;X-Two=a;x-two=b;");
}

TEST(ResponseHeadersTest, FindIsCaseInsensitiveAndReturnsTheFirstMatch) {
  ResponseHeaders headers;
  headers.add("X-Two", "a");
  headers.add("x-two", "b");
  ASSERT_TRUE(headers.find("X-TWO"));
  EXPECT_EQ(*headers.find("X-TWO"), "a");
  EXPECT_FALSE(headers.find("x-tw"));
  EXPECT_FALSE(headers.find("x-two-and-more"));
}

TEST(ResponseHeadersTest, PiecesBuildOneHeaderAndTrailingWhitespaceIsTrimmed) {
  ResponseHeaders headers;
  headers.start_header();
  headers.append_name("X-Lo");
  headers.append_name("ng");
  headers.append_value("va");
  headers.append_value("lue \t ");
  headers.trim_value_end();
  headers.start_header();
  headers.append_name("X-Empty");
  headers.trim_value_end();
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0], (ResponseHeaders::Entry{"X-Long", "value"}));
  EXPECT_EQ(headers[1], (ResponseHeaders::Entry{"X-Empty", ""}));
}

TEST(ResponseHeadersTest, ClearForgetsEveryHeader) {
  ResponseHeaders headers;
  headers.add("Date", "Tue, 24 Nov 2026 23:29:40 GMT");
  headers.clear();
  EXPECT_TRUE(headers.empty());
  EXPECT_FALSE(headers.find("date"));
  headers.add("ETag", "\"5f-abc\"");
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers[0], (ResponseHeaders::Entry{"ETag", "\"5f-abc\""}));
}

TEST(ResponseHeadersTest, ACopyOwnsItsText) {
  ResponseHeaders copy;
  {
    ResponseHeaders original;
    original.add("Location", "/next");
    copy = original;
    original.clear();
    original.add("Location", "/overwritten");
  }
  EXPECT_EQ(*copy.find("location"), "/next");
}

}  // namespace
}  // namespace luaload::engine::http
