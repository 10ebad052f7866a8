// SPDX-License-Identifier: MIT
#include "engine/http/request_writer.hpp"

#include <gtest/gtest.h>

namespace luaload::engine::http {
namespace {

std::string head(std::string_view method, std::string_view url, const Headers& headers, std::string_view body) {
  std::string out;
  write_request_head(method, *parse_url(url), headers, body, &out);
  return out;
}

TEST(RequestWriter, GetAddsHostAndUserAgentOnly) {
  EXPECT_EQ(head("GET", "http://h:81/p?q=1", {}, ""),
            "GET /p?q=1 HTTP/1.1\r\nHost: h:81\r\nUser-Agent: luaload/0.1\r\n\r\n");
}

TEST(RequestWriter, UserHeadersKeepTheirOrderAndCaseAndReplaceDefaults) {
  Headers headers = {{"x-B", "2"}, {"HOST", "virtual"}, {"user-agent", "me"}, {"X-a", "1"}};
  EXPECT_EQ(head("GET", "http://h/", headers, ""),
            "GET / HTTP/1.1\r\nx-B: 2\r\nHOST: virtual\r\nuser-agent: me\r\nX-a: 1\r\n\r\n");
}

TEST(RequestWriter, BodyGetsAContentLength) {
  EXPECT_EQ(head("PUT", "http://h/", {}, "hello"),
            "PUT / HTTP/1.1\r\nHost: h\r\nUser-Agent: luaload/0.1\r\nContent-Length: 5\r\n\r\n");
}

TEST(RequestWriter, EmptyPostStillSendsContentLengthZero) {
  EXPECT_EQ(head("POST", "http://h/", {}, ""),
            "POST / HTTP/1.1\r\nHost: h\r\nUser-Agent: luaload/0.1\r\nContent-Length: 0\r\n\r\n");
}

TEST(RequestWriter, UserContentLengthOrTransferEncodingIsNotDuplicated) {
  EXPECT_EQ(head("POST", "http://h/", {{"content-length", "3"}}, "abc"),
            "POST / HTTP/1.1\r\ncontent-length: 3\r\nHost: h\r\nUser-Agent: luaload/0.1\r\n\r\n");
  EXPECT_EQ(head("POST", "http://h/", {{"Transfer-Encoding", "chunked"}}, ""),
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: h\r\nUser-Agent: luaload/0.1\r\n\r\n");
}

TEST(RequestWriter, Ipv6HostHeaderIsBracketed) {
  EXPECT_EQ(head("GET", "http://[::1]:8080/", {}, ""),
            "GET / HTTP/1.1\r\nHost: [::1]:8080\r\nUser-Agent: luaload/0.1\r\n\r\n");
}

}  // namespace
}  // namespace luaload::engine::http
