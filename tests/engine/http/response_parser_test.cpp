// SPDX-License-Identifier: MIT
#include "engine/http/response_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace luaload::engine::http {
namespace {

using State = ResponseParser::State;

class ResponseParserTest : public ::testing::Test {
 protected:
  State feed(std::string_view bytes, bool head = false, RequestLimits limits = {}) {
    parser_.begin(limits, head, &response_);
    return parser_.feed(bytes.data(), bytes.size());
  }

  ResponseParser parser_;
  Response response_;
};

TEST_F(ResponseParserTest, ContentLengthBodyCompletesWithStatusHeadersAndBody) {
  ASSERT_EQ(feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Thing: a b \r\n\r\nhello"), State::Complete);
  EXPECT_EQ(parser_.status(), 200);
  EXPECT_EQ(response_.body, "hello");
  ASSERT_EQ(response_.headers.size(), 2u);
  EXPECT_EQ(response_.headers[1], (ResponseHeaders::Entry{"X-Thing", "a b"}));
  EXPECT_TRUE(parser_.keep_alive());
}

// Issue 10, defect 7: llhttp's reason ("Invalid header value char") did not name the cause.
TEST_F(ResponseParserTest, ABareLfIsNamedAsTheCauseEvenAcrossFeeds) {
  ASSERT_EQ(feed("HTTP/1.1 200 OK\r\nContent-Length: 0\nX: y\r\n\r\n"), State::Failed);
  EXPECT_NE(parser_.error().find("bare LF"), std::string::npos) << parser_.error();
  parser_.begin({}, false, &response_);
  ASSERT_EQ(parser_.feed("HTTP/1.1 200 OK\r\nContent-Length: 0", 33), State::Incomplete);
  ASSERT_EQ(parser_.feed("\nX: y\r\n\r\n", 10), State::Failed);
  EXPECT_NE(parser_.error().find("bare LF"), std::string::npos) << parser_.error();
  // Another malformed head says nothing about LF.
  ASSERT_EQ(feed("HTTP/1.1 2x0 OK\r\n\r\n"), State::Failed);
  EXPECT_EQ(parser_.error().find("bare LF"), std::string::npos) << parser_.error();
}

TEST_F(ResponseParserTest, HeaderLookupIsCaseInsensitiveAndNamesKeepTheirCase) {
  ASSERT_EQ(feed("HTTP/1.1 200 OK\r\ncOnTeNt-TyPe: text/plain\r\nContent-Length: 0\r\n\r\n"), State::Complete);
  EXPECT_EQ(response_.headers[0].name, "cOnTeNt-TyPe");
  ASSERT_TRUE(response_.headers.find("content-type"));
  EXPECT_EQ(*response_.headers.find("CONTENT-TYPE"), "text/plain");
  EXPECT_FALSE(response_.headers.find("missing"));
}

TEST_F(ResponseParserTest, ResponseSplitAcrossFeedsIsReassembled) {
  std::string bytes = "HTTP/1.1 201 Created\r\nContent-Length: 3\r\nX-Long-Name: value\r\n\r\nabc";
  parser_.begin({}, false, &response_);
  for (size_t i = 0; i + 1 < bytes.size(); ++i) ASSERT_EQ(parser_.feed(&bytes[i], 1), State::Incomplete) << i;
  ASSERT_EQ(parser_.feed(&bytes.back(), 1), State::Complete);
  EXPECT_EQ(parser_.status(), 201);
  EXPECT_EQ(*response_.headers.find("x-long-name"), "value");
  EXPECT_EQ(response_.body, "abc");
}

TEST_F(ResponseParserTest, ChunkedBodyIsDecoded) {
  ASSERT_EQ(feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"),
            State::Complete);
  EXPECT_EQ(response_.body, "abcde");
}

TEST_F(ResponseParserTest, CloseDelimitedBodyCompletesOnFinish) {
  ASSERT_EQ(feed("HTTP/1.1 200 OK\r\n\r\nuntil the end"), State::Incomplete);
  ASSERT_EQ(parser_.finish(), State::Complete);
  EXPECT_EQ(response_.body, "until the end");
  EXPECT_FALSE(parser_.keep_alive());
}

TEST_F(ResponseParserTest, HeadResponseHasNoBodyDespiteContentLength) {
  ASSERT_EQ(feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true), State::Complete);
  EXPECT_EQ(response_.body, "");
}

TEST_F(ResponseParserTest, NoContentAndNotModifiedHaveNoBody) {
  EXPECT_EQ(feed("HTTP/1.1 204 No Content\r\n\r\n"), State::Complete);
  EXPECT_EQ(feed("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"), State::Complete);
  EXPECT_EQ(parser_.status(), 304);
}

TEST_F(ResponseParserTest, InterimContinueIsSkipped) {
  ASSERT_EQ(feed("HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
            State::Complete);
  EXPECT_EQ(parser_.status(), 200);
  EXPECT_EQ(response_.body, "ok");
  EXPECT_FALSE(response_.headers.find("x-interim"));
}

TEST_F(ResponseParserTest, ConnectionCloseDisablesKeepAlive) {
  ASSERT_EQ(feed("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"), State::Complete);
  EXPECT_FALSE(parser_.keep_alive());
}

TEST_F(ResponseParserTest, Http10WithoutKeepAliveIsNotReusable) {
  ASSERT_EQ(feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"), State::Complete);
  EXPECT_FALSE(parser_.keep_alive());
}

TEST_F(ResponseParserTest, BytesAfterTheResponseAreNotConsumed) {
  std::string bytes = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxEXTRA";
  ASSERT_EQ(feed(bytes), State::Complete);
  EXPECT_EQ(parser_.consumed(), bytes.size() - 5);
}

TEST_F(ResponseParserTest, ParserIsReusableForTheNextResponse) {
  ASSERT_EQ(feed("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na"), State::Complete);
  ASSERT_EQ(feed("HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb"), State::Complete);
  EXPECT_EQ(parser_.status(), 404);
  EXPECT_EQ(response_.body, "b");
  EXPECT_EQ(response_.headers.size(), 1u);
}

TEST_F(ResponseParserTest, BadStatusLineIsMalformed) {
  EXPECT_EQ(feed("HTTX/1.1 200 OK\r\n\r\n"), State::Failed);
  EXPECT_EQ(parser_.error_code(), ErrorCode::MalformedResponse);
}

TEST_F(ResponseParserTest, BadChunkSizeIsMalformed) {
  EXPECT_EQ(feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n"), State::Failed);
  EXPECT_EQ(parser_.error_code(), ErrorCode::MalformedResponse);
}

TEST_F(ResponseParserTest, HeadersOverTheLimitFail) {
  RequestLimits limits;
  limits.max_response_header_bytes = 32;
  EXPECT_EQ(feed("HTTP/1.1 200 OK\r\nX-Big: " + std::string(64, 'a') + "\r\n\r\n", false, limits), State::Failed);
  EXPECT_EQ(parser_.error_code(), ErrorCode::ResponseHeadersTooLarge);
}

TEST_F(ResponseParserTest, DeclaredBodyOverTheLimitFailsBeforeReadingIt) {
  RequestLimits limits;
  limits.max_response_body_bytes = 4;
  EXPECT_EQ(feed("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, limits), State::Failed);
  EXPECT_EQ(parser_.error_code(), ErrorCode::ResponseBodyTooLarge);
}

TEST_F(ResponseParserTest, ChunkedBodyOverTheLimitFails) {
  RequestLimits limits;
  limits.max_response_body_bytes = 4;
  EXPECT_EQ(feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n", false, limits),
            State::Failed);
  EXPECT_EQ(parser_.error_code(), ErrorCode::ResponseBodyTooLarge);
}

TEST_F(ResponseParserTest, EofInsideTheBodyIsClosedEarly) {
  ASSERT_EQ(feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), State::Incomplete);
  EXPECT_EQ(parser_.finish(), State::Failed);
  EXPECT_EQ(parser_.error_code(), ErrorCode::ConnectionClosedEarly);
}

TEST_F(ResponseParserTest, EofBeforeAnyByteIsClosedEarly) {
  parser_.begin({}, false, &response_);
  EXPECT_EQ(parser_.finish(), State::Failed);
  EXPECT_EQ(parser_.error_code(), ErrorCode::ConnectionClosedEarly);
}

TEST(ErrorCodeMessage, EveryCodeHasAFixedMessage) {
  EXPECT_EQ(default_message(ErrorCode::TcpDialRefused), "dial: connection refused");
  EXPECT_EQ(default_message(ErrorCode::RequestTimeout), "request timeout");
  EXPECT_EQ(default_message(ErrorCode::None), "");
  for (uint32_t code : {1000u, 1010u, 1020u, 1050u, 1100u, 1101u, 1200u, 1201u, 1202u, 1210u, 1211u, 1212u,
                        1213u, 1220u, 1300u, 1310u, 1311u, 1400u, 1401u, 1402u, 1403u, 1404u, 1405u, 1406u}) {
    EXPECT_FALSE(default_message(static_cast<ErrorCode>(code)).empty()) << code;
  }
}

TEST_F(ResponseParserTest, ConsumedCountsOnlyTheLastCallsBytes) {
  ASSERT_EQ(feed("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab"), State::Incomplete);
  ASSERT_EQ(parser_.feed("cd", 2), State::Complete);
  EXPECT_EQ(parser_.consumed(), 2u);
}

// Header pieces are noted by position in the input and copied when feed() returns: whatever the chunking, and
// with the caller overwriting its buffer after every feed (as the shared read buffer is), the result is the same.
TEST_F(ResponseParserTest, EveryWayOfCuttingAResponseIntoThreeReadsGivesTheSameHeadersAndBody) {
  const std::string bytes =
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 24 Nov 2026 23:53:38 GMT\r\n"
      "Content-Type:  text/html \t\r\nX-Empty:\r\nX-Two: a\r\nx-two: b\r\nContent-Length: 5\r\n\r\nhello";
  ASSERT_EQ(feed(bytes), State::Complete);
  std::vector<std::pair<std::string, std::string>> expected;
  for (const auto& [name, value] : response_.headers) expected.emplace_back(name, value);
  ASSERT_EQ(expected.size(), 7u);
  EXPECT_EQ(expected[2], (std::pair<std::string, std::string>{"Content-Type", "text/html"}));
  EXPECT_EQ(expected[3], (std::pair<std::string, std::string>{"X-Empty", ""}));

  std::string buffer;
  for (size_t i = 1; i < bytes.size(); ++i) {
    for (size_t j = i; j < bytes.size(); ++j) {
      parser_.begin({}, false, &response_);
      State state = State::Incomplete;
      for (auto [from, to] : {std::pair{size_t{0}, i}, std::pair{i, j}, std::pair{j, bytes.size()}}) {
        if (from == to) continue;
        buffer.assign(bytes, from, to - from);
        state = parser_.feed(buffer.data(), buffer.size());
        buffer.assign(buffer.size(), '#');
      }
      ASSERT_EQ(state, State::Complete) << i << " " << j;
      std::vector<std::pair<std::string, std::string>> got;
      for (const auto& [name, value] : response_.headers) got.emplace_back(name, value);
      ASSERT_EQ(got, expected) << "cut at " << i << " and " << j;
      ASSERT_EQ(response_.body, "hello");
    }
  }
}

}  // namespace
}  // namespace luaload::engine::http
