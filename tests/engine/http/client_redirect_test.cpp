// SPDX-License-Identifier: MIT
#include "engine/http/client.hpp"

#include "client_fixture.hpp"

namespace luaload::engine::http {
namespace {

using test::http_response;

std::string redirect(int status, std::string_view location) {
  return http_response(status, "", "Location: " + std::string(location) + "\r\n");
}

class ClientRedirectTest : public ClientFixture {};

TEST_F(ClientRedirectTest, ChainIsFollowedAndEachHopRecorded) {
  auto& srv = server({{.bytes = redirect(301, "/b")}, {.bytes = redirect(302, "c")}, {.bytes = http_response(200, "end")}});
  Response response = get(srv.url("/a"));
  EXPECT_EQ(response.final.status, 200);
  EXPECT_EQ(response.body, "end");
  EXPECT_EQ(response.final.url, srv.url("/c"));
  ASSERT_EQ(response.redirects.size(), 2u);
  EXPECT_EQ(response.redirects[0].status, 301);
  EXPECT_EQ(response.redirects[0].url, srv.url("/a"));
  EXPECT_EQ(response.redirects[1].status, 302);
  EXPECT_EQ(response.redirects[1].url, srv.url("/b"));
  EXPECT_EQ(srv.accepts(), 1u);  // same origin: the keep-alive connection carries every hop
}

TEST_F(ClientRedirectTest, MaxRedirectsZeroReturnsTheRedirectItself) {
  auto& srv = server({{.bytes = redirect(302, "/next")}});
  Request request;
  request.url = srv.url();
  request.max_redirects = 0;
  Response response = fetch(request);
  EXPECT_EQ(response.final.status, 302);
  EXPECT_EQ(response.final.error_code, ErrorCode::None);
  EXPECT_TRUE(response.redirects.empty());
  EXPECT_EQ(srv.requests(), 1u);
}

TEST_F(ClientRedirectTest, TooManyRedirectsStopsWithTheLastRedirectAndAnError) {
  auto& srv = server({{.bytes = redirect(302, "/loop")}});
  Request request;
  request.url = srv.url();
  request.max_redirects = 3;
  Response response = fetch(request);
  EXPECT_EQ(response.final.status, 302);
  EXPECT_EQ(response.final.error_code, ErrorCode::TooManyRedirects);
  EXPECT_EQ(response.redirects.size(), 3u);
  EXPECT_EQ(srv.requests(), 4u);
}

TEST_F(ClientRedirectTest, SeeOtherTurnsAPostIntoAGetWithoutBody) {
  auto& srv = server({{.bytes = redirect(303, "/result")}, {.bytes = http_response(200, "ok")}});
  Request request;
  request.method = "POST";
  request.url = srv.url("/form");
  request.body = "a=1";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  Response response = fetch(request);
  EXPECT_EQ(response.final.status, 200);
  EXPECT_EQ(response.final.method, "GET");
  EXPECT_EQ(srv.last_request_head().rfind("GET /result HTTP/1.1\r\n", 0), 0u);
  EXPECT_EQ(srv.last_request_head().find("Content-"), std::string::npos);
  EXPECT_EQ(srv.last_request_body_bytes(), 0u);
}

TEST_F(ClientRedirectTest, TemporaryRedirectKeepsMethodAndBody) {
  auto& srv = server({{.bytes = redirect(307, "/again")}, {.bytes = http_response(200, "ok")}});
  Request request;
  request.method = "PUT";
  request.url = srv.url("/first");
  request.body = "payload";
  Response response = fetch(request);
  EXPECT_EQ(response.final.status, 200);
  EXPECT_EQ(response.final.method, "PUT");
  EXPECT_EQ(srv.last_request_head().rfind("PUT /again HTTP/1.1\r\n", 0), 0u);
  EXPECT_EQ(srv.last_request_body_bytes(), 7u);
}

TEST_F(ClientRedirectTest, RedirectToAnotherOriginOpensAConnectionThere) {
  auto& target = server({{.bytes = http_response(200, "there")}});
  auto& origin = server({{.bytes = redirect(302, target.url("/landing"))}});
  Response response = get(origin.url());
  EXPECT_EQ(response.body, "there");
  EXPECT_EQ(response.final.url, target.url("/landing"));
  EXPECT_EQ(target.accepts(), 1u);
  EXPECT_EQ(client().open_connections(), 2u);
}

TEST_F(ClientRedirectTest, ARedirectToAnotherHostDropsTheCredentialsAndTheScriptsHostHeader) {
  auto& srv = server({{.bytes = http_response(200, "ok")}});
  auto& first = server({{.bytes = redirect(302, "http://localhost:" + std::to_string(srv.port()) + "/next")}});
  Request request;
  request.url = first.url("/start");
  request.headers = {{"Authorization", "Bearer secret"}, {"Host", "api.example"}};
  Response response = fetch(request);
  EXPECT_EQ(response.final.status, 200);
  const std::string head = srv.last_request_head();
  EXPECT_EQ(head.find("Authorization"), std::string::npos) << head;
  EXPECT_NE(head.find("Host: localhost:" + std::to_string(srv.port()) + "\r\n"), std::string::npos) << head;
}

TEST_F(ClientRedirectTest, AHopThatFailsBeforeAnsweringShowsNoneOfTheRedirectsHeadersOrBody) {
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(test::unused_port()) + "/gone";
  auto& srv = server({{.bytes = http_response(302, "moved away", "Location: " + nowhere + "\r\nX-Hop: 1\r\n")}});
  Response response = get(srv.url("/a"));
  EXPECT_EQ(response.final.status, 0);
  EXPECT_EQ(response.final.error_code, ErrorCode::TcpDialRefused) << response.final.error;
  EXPECT_EQ(response.final.url, nowhere);
  ASSERT_EQ(response.redirects.size(), 1u);
  EXPECT_EQ(response.redirects[0].status, 302);
  // Headers and body are the final hop's, and it sent none.
  EXPECT_TRUE(response.headers.empty());
  EXPECT_EQ(response.body, "");
}

}  // namespace
}  // namespace luaload::engine::http
