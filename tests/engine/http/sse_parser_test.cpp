// SPDX-License-Identifier: MIT
#include "engine/http/sse_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace luaload::engine::http {

bool operator==(const SseEvent& a, const SseEvent& b) {
  return a.event == b.event && a.data == b.data && a.id == b.id && a.retry == b.retry && a.empty == b.empty;
}

void PrintTo(const SseEvent& e, std::ostream* os) {
  *os << "{event=" << e.event << " data=" << testing::PrintToString(e.data) << " id=" << e.id
      << " retry=" << e.retry << (e.empty ? " empty" : "") << "}";
}

namespace {

using Events = std::vector<SseEvent>;
using namespace std::string_literals;

Events parse_chunks(const std::vector<std::string>& chunks, SseParser::Options options = {}) {
  SseParser parser(options);
  Events events;
  for (const auto& chunk : chunks) EXPECT_TRUE(parser.feed(chunk, &events));
  return events;
}

// The fixture parsed whole, split in two at every position, and fed byte by byte must all give `expected`.
void expect_at_every_split(const std::string& stream, const Events& expected) {
  EXPECT_EQ(parse_chunks({stream}), expected) << "whole";
  for (size_t split = 0; split <= stream.size(); ++split) {
    EXPECT_EQ(parse_chunks({stream.substr(0, split), stream.substr(split)}), expected) << "split at " << split;
  }
  std::vector<std::string> bytes;
  for (char c : stream) bytes.emplace_back(1, c);
  EXPECT_EQ(parse_chunks(bytes), expected) << "byte by byte";
}

TEST(SseParser, ParsesACrLfStreamWithBomCommentsMultiLineDataAndFieldsAtEverySplit) {
  const std::string stream =
      "\xEF\xBB\xBF: hello\r\nevent: greet\r\ndata: one\r\ndata:two\r\nid: 7\r\nretry: 1500\r\n\r\n"
      "data:  spaced\r\n\r\nevent: x\r\ndata\r\n\r\n";
  expect_at_every_split(stream, {{"greet", "one\ntwo", "7", 1500, false},
                                 {"message", " spaced", "7", -1, false},
                                 {"x", "", "7", -1, false}});
}

TEST(SseParser, ParsesACrOnlyStreamAtEverySplit) {
  expect_at_every_split("data: a\rdata: b\r\rid: z\rdata: c\r\r",
                        {{"message", "a\nb", "", -1, false}, {"message", "c", "z", -1, false}});
}

TEST(SseParser, ParsesAnLfStreamWithIgnoredFieldsAndSkippedBlocksAtEverySplit) {
  const std::string stream = "id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\nretry: 12a\ndata: c\n\n"s +
                             ": ping\nfoo: bar\nevent: nothing\n\ndata: d\r\n\ndata: tail\n";
  expect_at_every_split(stream, {{"message", "a", "1", -1, false},
                                 {"message", "b", "1", -1, false},
                                 {"message", "c", "1", -1, false},
                                 {"message", "d", "1", -1, false}});
}

TEST(SseParser, TreatsCrAtTheEndOfAChunkAndLfAtTheStartOfTheNextAsOneLineEnd) {
  EXPECT_EQ(parse_chunks({"data: a\r", "\ndata: b\r\n\r\n"}), (Events{{"message", "a\nb", "", -1, false}}));
}

TEST(SseParser, StripsOnlyOneLeadingSpaceFromTheValue) {
  EXPECT_EQ(parse_chunks({"data:   x \n\n"}), (Events{{"message", "  x ", "", -1, false}}));
}

TEST(SseParser, KeepsTheLastEventIdAcrossEventsUntilAnEmptyIdResetsIt) {
  EXPECT_EQ(parse_chunks({"id: 5\ndata: a\n\ndata: b\n\nid\ndata: c\n\n"}),
            (Events{{"message", "a", "5", -1, false}, {"message", "b", "5", -1, false},
                    {"message", "c", "", -1, false}}));
}

TEST(SseParser, IgnoresRetryUnlessAllDigits) {
  SseParser parser;
  Events events;
  ASSERT_TRUE(parser.feed("retry: 10 \ndata: a\n\nretry: -1\ndata: b\n\nretry: 250\ndata: c\n\n", &events));
  EXPECT_EQ(events, (Events{{"message", "a", "", -1, false}, {"message", "b", "", -1, false},
                            {"message", "c", "", 250, false}}));
  EXPECT_EQ(parser.reconnection_time_ms(), 250);
}

TEST(SseParser, DoesNotDispatchABlockWithoutDataButCountsIt) {
  SseParser parser;
  Events events;
  ASSERT_TRUE(parser.feed("event: e\nid: 3\n\n:comment only\n\n\n", &events));
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(parser.skipped_empty(), 1u);
  EXPECT_EQ(parser.last_event_id(), "3");
}

TEST(SseParser, ReportsBlocksWithoutDataWhenAskedTo) {
  SseParser::Options options;
  options.report_empty = true;
  EXPECT_EQ(parse_chunks({"event: e\nid: 3\nretry: 9\n\n: ping\n\ndata: x\n\n"}, options),
            (Events{{"e", "", "3", 9, true}, {"message", "x", "3", -1, false}}));
}

TEST(SseParser, StripsTheBomOnlyAtTheStartOfTheStream) {
  EXPECT_EQ(parse_chunks({"data: a\n\xEF\xBB\xBF" "data: b\n\n"}), (Events{{"message", "a", "", -1, false}}));
}

TEST(SseParser, KeepsBytesThatOnlyStartLikeABom) {
  EXPECT_EQ(parse_chunks({"\xEF", "\xBB" "data: x\n\ndata: y\n\n"}), (Events{{"message", "y", "", -1, false}}));
}

TEST(SseParser, FailsOnAnEventLargerThanTheLimitAndStaysFailed) {
  SseParser::Options options;
  options.max_event_bytes = 16;
  SseParser parser(options);
  Events events;
  EXPECT_TRUE(parser.feed("data: 0123456\n", &events));
  EXPECT_FALSE(parser.feed("data: 0123456789\n\n", &events));
  EXPECT_EQ(parser.error(), "server-sent event exceeds 16 bytes");
  EXPECT_FALSE(parser.feed("data: a\n\n", &events));
  EXPECT_TRUE(events.empty());
}

}  // namespace
}  // namespace luaload::engine::http
