// SPDX-License-Identifier: MIT
// Calls into the Client from inside a completion (send, cancel, close), and completions that move the pooled
// Response away: the Op is handed back to the pool only after the completion returns, so none of this may disturb
// another request or leave anything of one exchange in the next.
#include <algorithm>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <string>

#include "client_fixture.hpp"

namespace luaload::engine::http {
namespace {

using test::http_response;

class ClientReentryTest : public ClientFixture {
 protected:
  void TearDown() override {
    if (watching_) {
      bool closed = false;
      check_.data = &closed;
      uv_close(reinterpret_cast<uv_handle_t*>(&check_), [](uv_handle_t* h) { *static_cast<bool*>(h->data) = true; });
      EXPECT_TRUE(test::run_until(&loop_, [&] { return closed; }));
    }
    ClientFixture::TearDown();
  }

  // A Client of the test's own, for tests that close it themselves (the fixture's TearDown closes client()).
  std::unique_ptr<Client> own_client() { return std::make_unique<Client>(env_); }

  // Runs `action` once, in the loop turn the Client's connection to `port` starts closing, after that turn's I/O
  // callbacks and before its close callbacks (a check handle): the window in which an interrupt arriving with other
  // I/O of the same turn finds the connection closing but its job not yet handed back. The connection is the TCP
  // handle whose peer is `port` (the server's own sockets have it as their local port).
  void when_the_connection_starts_closing(uint16_t port, std::function<void()> action) {
    action_ = std::move(action);
    port_ = port;
    watching_ = true;
    uv_check_init(&loop_, &check_);
    check_.data = this;
    uv_check_start(&check_, [](uv_check_t* check) {
      auto* self = static_cast<ClientReentryTest*>(check->data);
      if (self->watched_ == nullptr) {
        uv_walk(check->loop, [](uv_handle_t* handle, void* arg) {
          auto* me = static_cast<ClientReentryTest*>(arg);
          if (handle->type != UV_TCP || uv_is_closing(handle) || me->watched_ != nullptr) return;
          sockaddr_storage peer{};
          int length = sizeof peer;
          if (uv_tcp_getpeername(reinterpret_cast<uv_tcp_t*>(handle), reinterpret_cast<sockaddr*>(&peer),
                                 &length) != 0 || peer.ss_family != AF_INET) {
            return;
          }
          if (ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port) == me->port_) me->watched_ = handle;
        }, self);
        return;
      }
      if (!uv_is_closing(self->watched_)) return;
      uv_check_stop(check);
      self->action_();
    });
  }

  // An early answer: the server answers on the head alone (it takes Content-Length: 0 at its word) while most of
  // the body is still queued behind a partial write, so the connection closes without a job error.
  static Request early_answered_upload(const test::MisbehavingServer& srv) {
    Request request;
    request.method = "POST";
    request.url = srv.url("/upload");
    request.headers.emplace_back("Content-Length", "0");
    request.body = std::string(32 * 1024 * 1024, 'b');
    return request;
  }

  // Sends `request`, cancels it in the turn its connection starts closing, and waits for the completion (counted
  // in *calls, which must end at 1) and for the close callbacks.
  Response send_and_cancel_when_closing(const Request& request, const test::MisbehavingServer& srv, int* calls) {
    Response got;
    const Client::RequestId id = client().send(request, [&got, calls](Response&& r) {
      got = std::move(r);
      ++*calls;
    });
    when_the_connection_starts_closing(srv.port(), [this, id] { client().cancel(id); });
    EXPECT_TRUE(test::run_until(&loop_, [calls] { return *calls > 0; }, 10000));
    settle();
    return got;
  }

  uv_check_t check_{};
  bool watching_ = false;
  uint16_t port_ = 0;
  uv_handle_t* watched_ = nullptr;
  std::function<void()> action_;
};

TEST_F(ClientReentryTest, AResponseMovedAwayByItsCompletionLeavesNothingBehindForTheNext) {
  const std::string big_body(10000, 'x');
  const std::string long_header = "X-Long: " + std::string(3000, 'h') + "\r\n";
  auto& srv = server({{.bytes = http_response(302, "", "Location: /final\r\n")},
                      {.bytes = http_response(200, big_body, long_header)},
                      {.bytes = http_response(404, "b")}});
  Request request;
  request.url = srv.url("/start");
  request.method = "POST";
  request.body = std::string(6000, 'p');
  Response first;
  int calls = 0;
  client().send(request, [&](Response&& r) {
    first = std::move(r);
    ++calls;
  });
  ASSERT_TRUE(test::run_until(&loop_, [&] { return calls == 1; }));
  EXPECT_EQ(first.final.status, 200);
  EXPECT_EQ(first.redirects.size(), 1u);
  EXPECT_EQ(first.body, big_body);
  EXPECT_EQ(first.headers.find("x-long")->size(), 3000u);

  request.url = srv.url("/two");
  request.method = "GET";
  request.body.clear();
  Response second = fetch(request);
  EXPECT_EQ(second.final.status, 404);
  EXPECT_EQ(second.final.method, "GET");
  EXPECT_EQ(second.final.url, srv.url("/two"));
  EXPECT_TRUE(second.redirects.empty());
  EXPECT_EQ(second.body, "b");
  ASSERT_EQ(second.headers.size(), 1u);  // Content-Length only
  EXPECT_EQ(second.headers[0].name, "Content-Length");
  EXPECT_EQ(second.proto, "HTTP/1.1");
  EXPECT_TRUE(second.tls_version.empty());
  EXPECT_EQ(srv.last_request_body_bytes(), 0u);
  EXPECT_EQ(first.body, big_body);  // the moved-out response is the caller's now
}

TEST_F(ClientReentryTest, ARequestSentFromInsideACompletionThatMovedTheResponseReusesTheConnection) {
  auto& srv = server({{.bytes = http_response(200, "outer", "X-Outer: 1\r\n")},
                      {.bytes = http_response(201, "inner")}});
  Request request;
  request.url = srv.url("/outer");
  Response outer_kept;
  Response inner_got;
  int inner_calls = 0;
  client().send(request, [&](Response&& outer) {
    outer_kept = std::move(outer);
    Request next;
    next.url = srv.url("/inner");
    client().send(next, [&](Response&& inner) {
      inner_got = std::move(inner);
      ++inner_calls;
    });
  });
  ASSERT_TRUE(test::run_until(&loop_, [&] { return inner_calls == 1; }));
  EXPECT_EQ(outer_kept.final.status, 200);
  EXPECT_EQ(outer_kept.body, "outer");
  EXPECT_EQ(outer_kept.headers.find("x-outer"), "1");
  EXPECT_EQ(inner_got.final.status, 201);
  EXPECT_EQ(inner_got.body, "inner");
  EXPECT_FALSE(inner_got.headers.find("x-outer").has_value());
  EXPECT_EQ(inner_got.final.url, srv.url("/inner"));
  EXPECT_EQ(srv.accepts(), 1u);
}

TEST_F(ClientReentryTest, CancellingAnotherRequestFromInsideACompletionFailsItOnce) {
  auto& fast = server({{.bytes = http_response(200, "a")}});
  auto& silent = server({test::silent_reply()});
  Request slow_request;
  slow_request.url = silent.url();
  int slow_calls = 0;
  ErrorCode slow_error = ErrorCode::None;
  Client::RequestId slow = client().send(slow_request, [&](Response&& r) {
    ++slow_calls;
    slow_error = r.final.error_code;
  });
  Request fast_request;
  fast_request.url = fast.url();
  int fast_status = 0;
  client().send(fast_request, [&](Response&& r) {
    fast_status = r.final.status;
    client().cancel(slow);
  });
  ASSERT_TRUE(test::run_until(&loop_, [&] { return slow_calls > 0; }));
  settle();
  EXPECT_EQ(fast_status, 200);
  EXPECT_EQ(slow_calls, 1);
  EXPECT_EQ(slow_error, ErrorCode::Cancelled);
}

TEST_F(ClientReentryTest, ClosingTheClientFromInsideACompletionCancelsTheRequestStillInFlightOnce) {
  auto& fast = server({{.bytes = http_response(200, "a")}});
  auto& silent = server({test::silent_reply()});
  std::unique_ptr<Client> own = own_client();
  Request slow_request;
  slow_request.url = silent.url();
  int slow_calls = 0;
  ErrorCode slow_error = ErrorCode::None;
  own->send(slow_request, [&](Response&& r) {
    ++slow_calls;
    slow_error = r.final.error_code;
  });
  Request fast_request;
  fast_request.url = fast.url();
  int fast_calls = 0;
  bool closed = false;
  own->send(fast_request, [&](Response&& r) {
    ++fast_calls;
    own->close([&] { closed = true; });
  });
  ASSERT_TRUE(test::run_until(&loop_, [&] { return closed; }));
  EXPECT_EQ(fast_calls, 1);
  EXPECT_EQ(slow_calls, 1);
  EXPECT_EQ(slow_error, ErrorCode::Cancelled);
  EXPECT_EQ(own->open_connections(), 0u);
}

TEST_F(ClientReentryTest, ARequestAfterAStreamOnTheSamePooledSlotIsNotStreamed) {
  auto& srv = server({{.bytes = http_response(200, "streamed")}, {.bytes = http_response(200, "buffered")}});
  Request request;
  request.url = srv.url();
  int heads = 0;
  std::string pieces;
  Client::StreamCallbacks callbacks;
  callbacks.on_headers = [&](const Response&, const Exchange&) { ++heads; };
  callbacks.on_body = [&](std::string_view data) { pieces.append(data); };
  int stream_done = 0;
  client().stream(request, std::move(callbacks), [&](Response&&) { ++stream_done; });
  ASSERT_TRUE(test::run_until(&loop_, [&] { return stream_done == 1; }));
  Response second = fetch(request);
  EXPECT_EQ(second.body, "buffered");
  EXPECT_EQ(heads, 1);
  EXPECT_EQ(pieces, "streamed");
}

// The server answers as soon as it has the head (it takes the body's declared length, 0, at its word) while most
// of a large body is still queued behind a partial uv_try_write: the response is delivered once, the connection is
// not reused (the stream is out of sync), and the next request goes out on a fresh one.
TEST_F(ClientReentryTest, AnAnswerArrivingWhileALargeBodyIsStillBeingWrittenCompletesOnce) {
  auto& srv = server({{.bytes = http_response(200, "early")}});
  Request request;
  request.method = "POST";
  request.url = srv.url("/upload");
  request.headers.emplace_back("Content-Length", "0");
  request.body = std::string(32 * 1024 * 1024, 'b');
  Response first = fetch(request);
  EXPECT_EQ(first.final.status, 200);
  EXPECT_EQ(first.final.error_code, ErrorCode::None) << first.final.error;
  EXPECT_EQ(first.body, "early");
  Request next;
  next.url = srv.url("/next");
  Response second = fetch(next);
  EXPECT_EQ(second.final.status, 200);
  EXPECT_EQ(second.body, "early");
}

// A bounded storm over the paths the pooled Ops are reused on: answers, resets, closes, silences cut by a short
// timeout, redirects, requests sent from inside completions, and cancel()/stop()/pause() with ids both live and long
// finished (whose slots carry other requests by then). Every send completes exactly once, with its own id.
TEST_F(ClientReentryTest, AStormOfMixedOutcomesCompletesEverySendExactlyOnceWithItsOwnId) {
  const std::vector<test::Reply> kinds = {{.bytes = http_response(200, "ok")},
                                         test::reset_reply(),
                                         {.bytes = http_response(302, "", "Location: /moved\r\n")},
                                         {.bytes = http_response(200, std::string(6000, 'z'))},
                                         test::close_reply(),
                                         test::silent_reply(),
                                         {.bytes = http_response(204, "")},
                                         {.bytes = http_response(200, "x", "Connection: close\r\n")}};
  std::vector<test::Reply> replies;  // the server answers request i with replies[i]: cycle through the kinds
  for (int i = 0; i < 400; ++i) replies.push_back(kinds[i % kinds.size()]);
  auto& srv = server(std::move(replies));
  constexpr int kSends = 120;
  std::vector<int> calls(kSends, 0);
  std::vector<Client::RequestId> ids(kSends, 0);
  std::vector<Client::RequestId> answered(kSends, 0);
  int sent = 0;
  int completed = 0;
  uint32_t seed = 12345;
  auto next_random = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) & 0x7fff;
  };
  std::function<void()> send_one = [&] {
    const int index = sent++;
    Request request;
    request.url = srv.url("/r" + std::to_string(index));
    request.timeout_s = 0.05;
    if (index % 7 == 3) request.body = std::string(5000, 'q');
    ids[index] = client().send(request, [&, index](Response&& response) {
      ++calls[index];
      ++completed;
      answered[index] = response.request_id;
      if (index % 3 == 0) Response taken = std::move(response);
      // Ids of requests both running and finished, as a script's stale handle would pass them.
      const Client::RequestId victim = ids[next_random() % sent];
      switch (next_random() % 4) {
        case 0: client().cancel(victim); break;
        case 1: client().stop(victim); break;
        case 2: client().pause(victim), client().resume(victim); break;
        default: break;
      }
      if (sent < kSends) send_one();
    });
  };
  for (int i = 0; i < 4; ++i) send_one();
  ASSERT_TRUE(test::run_until(&loop_, [&] { return completed == kSends; }, 15000)) << completed;
  settle();
  for (int i = 0; i < kSends; ++i) {
    EXPECT_EQ(calls[i], 1) << i;
    EXPECT_EQ(answered[i], ids[i]) << i;
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
}

// close() lands between an early answer (a 302) and its connection's close callback. A closing Client must not
// follow the redirect: that would open a new connection and send a request after close(), and hold close() up
// until that request ended.
TEST_F(ClientReentryTest, ARedirectAnsweredWhileTheClientClosesIsNotFollowed) {
  auto& srv = server({{.bytes = http_response(302, "", "Location: /next\r\n")}, {.bytes = http_response(200, "b")}});
  std::unique_ptr<Client> own = own_client();
  int calls = 0;
  Response got;
  own->send(early_answered_upload(srv), [&](Response&& r) {
    got = std::move(r);
    ++calls;
  });
  bool closed = false;
  when_the_connection_starts_closing(srv.port(), [&] { own->close([&] { closed = true; }); });
  ASSERT_TRUE(test::run_until(&loop_, [&] { return closed; }, 10000));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got.final.status, 302) << got.final.error;
  EXPECT_TRUE(got.redirects.empty());
  EXPECT_EQ(srv.last_request_head().rfind("POST /upload", 0), 0u) << srv.last_request_head();
}

// The same window for cancel(): the request is not cancelled by aborting its (already closing) connection, but it
// must not go on to another hop either.
TEST_F(ClientReentryTest, ARedirectAnsweredJustAsTheRequestIsCancelledIsNotFollowed) {
  auto& srv = server({{.bytes = http_response(302, "", "Location: /next\r\n")}, {.bytes = http_response(200, "b")}});
  int calls = 0;
  Response got = send_and_cancel_when_closing(early_answered_upload(srv), srv, &calls);
  EXPECT_EQ(calls, 1);
  EXPECT_NE(got.final.status, 200);
  EXPECT_TRUE(got.redirects.empty());
  EXPECT_EQ(srv.last_request_head().rfind("POST /upload", 0), 0u) << srv.last_request_head();
}

// A reused connection the server closes instead of answering is normally retried on a fresh one; not when the
// request was cancelled while that connection was closing.
TEST_F(ClientReentryTest, ARequestCancelledWhileItsStaleConnectionClosesIsNotRetried) {
  auto& srv = server({{.bytes = http_response(200, "a")}, test::close_reply(), {.bytes = http_response(200, "c")}});
  ASSERT_EQ(get(srv.url()).final.status, 200);
  Request request;
  request.url = srv.url();
  int calls = 0;
  Response got = send_and_cancel_when_closing(request, srv, &calls);
  EXPECT_EQ(calls, 1);
  EXPECT_NE(got.final.error_code, ErrorCode::None);
  EXPECT_EQ(got.final.status, 0);
  EXPECT_EQ(srv.accepts(), 1u);
  EXPECT_EQ(srv.requests(), 2u);
}

// A head bigger than the socket takes at once: what uv_try_write leaves is part of the head and all of the body,
// queued as two buffers.
TEST_F(ClientReentryTest, AHeadTooBigForOneWriteIsSentWholeBeforeItsBody) {
  auto& srv = server({{.bytes = http_response(200, "ok")}});
  Request request;
  request.method = "POST";
  request.url = srv.url("/big");
  request.headers.emplace_back("X-Big", std::string(4 * 1024 * 1024, 'h'));
  request.body = std::string(1024 * 1024, 'b');
  Response response = fetch(request);
  EXPECT_EQ(response.final.status, 200) << response.final.error;
  EXPECT_EQ(srv.last_request_body_bytes(), 1024u * 1024u);
  EXPECT_NE(srv.last_request_head().find("X-Big: hhhh"), std::string::npos);
  EXPECT_GT(srv.last_request_head().size(), 4u * 1024 * 1024);
  EXPECT_EQ(response.final.bytes_sent, srv.last_request_head().size() + 1024u * 1024u);
}

}  // namespace
}  // namespace luaload::engine::http
