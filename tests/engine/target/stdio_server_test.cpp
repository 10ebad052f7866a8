// SPDX-License-Identifier: MIT
// StdioServer (`luaload target --stdio`) on the test's loop, its stdin and stdout on two pipes the test holds:
// both eras, --mcp-era, cancellation, server requests, listen streams, list changes, and the end of input.
#include "engine/target/stdio_server.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/loop_fixture.hpp"

namespace luaload::test {
namespace {

using engine::target::McpEra;
using engine::target::StdioServer;
using engine::target::TargetOptions;
using json = nlohmann::json;

json modern_meta() {
  return {{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
          {"io.modelcontextprotocol/clientInfo", {{"name", "test"}, {"version", "1"}}},
          {"io.modelcontextprotocol/clientCapabilities", json::object()}};
}

json request(const json& id, const std::string& method, json params = json::object()) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

json modern(const json& id, const std::string& method, json params = json::object()) {
  params["_meta"] = modern_meta();
  return request(id, method, std::move(params));
}

class StdioServerTest : public LoopFixture {
 protected:
  static void SetUpTestSuite() { std::signal(SIGPIPE, SIG_IGN); }

  void start(TargetOptions options = {}) {
    ASSERT_EQ(::pipe2(in_, O_CLOEXEC), 0);
    ASSERT_EQ(::pipe2(out_, O_CLOEXEC), 0);
    ASSERT_EQ(::fcntl(out_[0], F_SETFL, O_NONBLOCK), 0);
    server_ = std::make_unique<StdioServer>(&loop_, options);
    std::string error;
    ASSERT_TRUE(server_->start(
        in_[0], out_[1], [this] { ++ends_; }, &error))
        << error;
  }

  void TearDown() override {
    if (server_ != nullptr) {
      bool closed = false;
      server_->close([&closed] { closed = true; });
      run_until([&closed] { return closed; }, 5000);
      EXPECT_TRUE(closed);
      server_.reset();
    }
    for (int fd : {in_[1], out_[0]}) {
      if (fd >= 0) ::close(fd);
    }
    LoopFixture::TearDown();
  }

  void send(const json& message) { send_text(message.dump() + "\n"); }
  void send_text(const std::string& text) {
    ASSERT_EQ(::write(in_[1], text.data(), text.size()), ssize_t(text.size()));
  }

  // Every complete line the server wrote so far.
  void drain() {
    char buf[65536];
    ssize_t n;
    while ((n = ::read(out_[0], buf, sizeof buf)) > 0) pending_.append(buf, static_cast<size_t>(n));
    size_t newline;
    while ((newline = pending_.find('\n')) != std::string::npos) {
      received_.push_back(json::parse(pending_.substr(0, newline)));
      pending_.erase(0, newline + 1);
    }
  }

  bool run_until(const std::function<bool()>& pred, int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      drain();
      if (pred()) return true;
      ::usleep(1000);
    }
    return pred();
  }

  // The message with this id, waiting for it up to 5 s; null when it never came.
  json response(const json& id) {
    json found;
    run_until(
        [&] {
          for (const json& m : received_) {
            if (m.contains("id") && m["id"] == id && !m.contains("method")) found = m;
          }
          return !found.is_null();
        },
        5000);
    return found;
  }

  json initialize(const std::string& version = "2025-11-25", json capabilities = json::object()) {
    send(request(1, "initialize",
                 {{"protocolVersion", version},
                  {"capabilities", std::move(capabilities)},
                  {"clientInfo", {{"name", "test"}, {"version", "1"}}}}));
    json answer = response(1);
    send({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
    return answer;
  }

  std::vector<json> with_method(const std::string& method) {
    std::vector<json> out;
    for (const json& m : received_) {
      if (m.value("method", "") == method) out.push_back(m);
    }
    return out;
  }

  int in_[2] = {-1, -1};
  int out_[2] = {-1, -1};
  std::unique_ptr<StdioServer> server_;
  std::string pending_;
  std::vector<json> received_;
  int ends_ = 0;
};

TEST_F(StdioServerTest, ALegacySessionOpensWithInitializeAndServesTools) {
  start();
  json init = initialize();
  ASSERT_TRUE(init.contains("result")) << init.dump();
  EXPECT_EQ(init["result"]["protocolVersion"], "2025-11-25");
  send(request(2, "tools/call", {{"name", "echo"}, {"arguments", {{"text", "over stdio"}}}}));
  json echo = response(2);
  EXPECT_EQ(echo["result"]["content"][0]["text"], "over stdio");
}

TEST_F(StdioServerTest, RequestsWithTheEnvelopeAreServedStatelesslyWithoutInitialize) {
  start();
  send(modern(7, "server/discover"));
  json discover = response(7);
  ASSERT_TRUE(discover.contains("result")) << discover.dump();
  EXPECT_NE(discover["result"]["supportedVersions"].dump().find("2026-07-28"), std::string::npos);
  send(modern("a", "tools/call", {{"name", "add"}, {"arguments", {{"a", 2}, {"b", 3}}}}));
  json add = response("a");
  EXPECT_EQ(add["result"]["resultType"], "complete");
  EXPECT_EQ(add["result"]["content"][0]["text"], "5");
}

TEST_F(StdioServerTest, ALegacyRequestBeforeInitializeIsRefused) {
  start();
  send(request(3, "tools/list"));
  EXPECT_EQ(response(3)["error"]["code"], -32600);
}

TEST_F(StdioServerTest, ModernOnlyAnswersInitializeWithTheVersionsItSpeaks) {
  TargetOptions options;
  options.mcp_era = McpEra::Modern;
  start(options);
  json refused = initialize();
  EXPECT_EQ(refused["error"]["code"], -32022);
  EXPECT_EQ(refused["error"]["data"]["supported"], json::array({"2026-07-28"}));
}

TEST_F(StdioServerTest, LegacyOnlyTreatsAProbeAsARequestOutsideAnySession) {
  TargetOptions options;
  options.mcp_era = McpEra::Legacy;
  start(options);
  send(modern(1, "server/discover"));
  EXPECT_TRUE(response(1).contains("error"));
  EXPECT_TRUE(initialize().contains("result"));
}

TEST_F(StdioServerTest, LinesThatAreNotJsonRpcGetAnErrorWithoutAnId) {
  start();
  send_text("not json\n");
  json error = response(nullptr);
  EXPECT_EQ(error["error"]["code"], -32700);
}

TEST_F(StdioServerTest, ProgressPrecedesTheResponseOnTheSameChannel) {
  start();
  initialize();
  send(request(2, "tools/call",
               {{"name", "slow"}, {"arguments", {{"delay_ms", 60}}}, {"_meta", {{"progressToken", "p"}}}}));
  json done = response(2);
  EXPECT_TRUE(done.contains("result"));
  auto progress = with_method("notifications/progress");
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress[0]["params"]["progressToken"], "p");
}

TEST_F(StdioServerTest, ACancelledRequestGetsNoResponse) {
  start();
  initialize();
  send(request(2, "tools/call", {{"name", "slow"}, {"arguments", {{"delay_ms", 300}}}}));
  run_until([] { return false; }, 50);
  send({{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 2}}}});
  send(request(3, "ping"));
  EXPECT_TRUE(response(3).contains("result"));
  run_until([] { return false; }, 400);
  for (const json& m : received_) EXPECT_NE(m.value("id", json()), json(2)) << m.dump();
}

TEST_F(StdioServerTest, ALegacyServerRequestIsAnsweredOnStdinAndTheToolFinishes) {
  start();
  initialize("2025-11-25", {{"elicitation", json::object()}});
  send(request(2, "tools/call", {{"name", "test_elicitation"}, {"arguments", {{"message", "go?"}}}}));
  json ask;
  run_until(
      [&] {
        auto asks = with_method("elicitation/create");
        if (!asks.empty()) ask = asks[0];
        return !ask.is_null();
      },
      5000);
  ASSERT_FALSE(ask.is_null());
  send({{"jsonrpc", "2.0"}, {"id", ask["id"]}, {"result", {{"action", "accept"}, {"content", {{"username", "u"}}}}}});
  json done = response(2);
  ASSERT_TRUE(done.contains("result")) << done.dump();
  EXPECT_NE(done["result"]["content"][0]["text"].get<std::string>().find("accept"), std::string::npos);
}

TEST_F(StdioServerTest, AListenStreamCarriesItsSubscriptionIdUntilCancelled) {
  start();
  send(modern(5, "subscriptions/listen", {{"notifications", {{"toolsListChanged", true}}}}));
  ASSERT_TRUE(run_until([&] { return !with_method("notifications/subscriptions/acknowledged").empty(); }, 5000));
  send(modern(6, "tools/call", {{"name", "test_trigger_tool_change"}, {"arguments", json::object()}}));
  ASSERT_TRUE(run_until([&] { return !with_method("notifications/tools/list_changed").empty(); }, 5000));
  json change = with_method("notifications/tools/list_changed")[0];
  EXPECT_EQ(change["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], 5);
  send({{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 5}}}});
  run_until([] { return false; }, 100);
  send(modern(7, "tools/call", {{"name", "test_trigger_tool_change"}, {"arguments", json::object()}}));
  response(7);
  run_until([] { return false; }, 200);
  EXPECT_EQ(with_method("notifications/tools/list_changed").size(), 1u);
}

TEST_F(StdioServerTest, ALegacySessionHearsOfListChanges) {
  start();
  initialize();
  send(request(2, "tools/call", {{"name", "test_trigger_tool_change"}, {"arguments", json::object()}}));
  ASSERT_TRUE(run_until([&] { return !with_method("notifications/tools/list_changed").empty(); }, 5000));
}

TEST_F(StdioServerTest, TheEndOfInputEndsTheServer) {
  start();
  initialize();
  ::close(in_[1]);
  in_[1] = -1;
  EXPECT_TRUE(run_until([this] { return ends_ == 1; }, 5000));
}

}  // namespace
}  // namespace luaload::test
