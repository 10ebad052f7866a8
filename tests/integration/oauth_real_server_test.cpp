// SPDX-License-Identifier: MIT
// luaload.oauth against a real authorization server: oauth2-mock-server (RS256 JWTs stamped in whole seconds)
// behind a strict launcher, and a resource server that verifies every token with no clock skew
// (oauth_mock_server.mjs). These are the conditions under which renewal used to be late (issue 11): here the
// defaults must hold with 5 s tokens, and a token endpoint outage must cost nothing while tokens are valid.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/files.hpp"
#include "support/node_server.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace luaload::test {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(30);

class OAuthRealServerTest : public ::testing::Test {
 protected:
  void TearDown() override { servers_.stop(SIGTERM, std::chrono::milliseconds(2'000)); }

  // Starts the servers with tokens valid `ttl_s` seconds; fills as_ and rs_.
  void start_servers(int ttl_s) {
    std::string why;
    ASSERT_TRUE(node_tools::available(&why)) << why;
    const auto script = std::filesystem::path(LUALOAD_SOURCE_DIR) / "tests" / "integration" / "oauth_mock_server.mjs";
    ProcessOptions options;
    options.argv = {node_tools::node_binary().string(), script.string(), "--node-dir",
                    node_tools::directory().string(), "--ttl", std::to_string(ttl_s)};
    ASSERT_TRUE(servers_.start(options, log_path(), &why)) << why;
    static const std::regex kReady(R"(READY as=http://localhost:([0-9]+) rs=(http://127\.0\.0\.1:[0-9]+))");
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (std::chrono::steady_clock::now() < deadline && servers_.running()) {
      const std::string text = read_text(log_path());
      std::smatch m;
      if (std::regex_search(text, m, kReady)) {
        as_ = "http://127.0.0.1:" + m[1].str();
        rs_ = m[2].str();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "the OAuth test servers did not start:\n" << read_text(log_path());
  }

  ProcessResult run(const std::string& body, std::vector<std::string> extra) {
    const std::string prelude = R"(
local oauth = require("luaload.oauth")
local http = require("luaload.http")
local ll = require("luaload")
local AS, RS = ll.env.AS, ll.env.RS
local function out(key, value) print(key .. "=" .. tostring(value)) end
)";
    auto path = dir_.write_file("script.lua", prelude + body);
    std::vector<std::string> argv = {LUALOAD_BINARY, "run", path.string(), "--quiet", "-e", "AS=" + as_, "-e",
                                     "RS=" + rs_, "--summary-export", (dir_.path() / "summary.json").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, std::chrono::milliseconds(90'000));
  }

  nlohmann::json metrics() const {
    auto s = read_json_file(dir_.path() / "summary.json");
    return s.is_discarded() ? nlohmann::json() : s["metrics"];
  }

  // The servers' own counts (the script prints them in teardown as `stats=<json>`).
  static nlohmann::json stats(const ProcessResult& r) {
    const auto at = r.out.find("stats=");
    if (at == std::string::npos) return nlohmann::json();
    return nlohmann::json::parse(r.out.substr(at + 6, r.out.find('\n', at) - at - 6), nullptr, false);
  }

  static double count(const nlohmann::json& m, const std::string& name) {
    return m.contains(name) ? m[name]["values"]["count"].get<double>() : 0;
  }

  std::filesystem::path log_path() const { return dir_.path() / "servers.log"; }

  TempDir dir_;
  BackgroundProcess servers_;
  std::string as_, rs_;
};

// The journey: each VU logs in (password grant, its own user) and reads the API; teardown prints the servers' counts.
constexpr const char* kJourney = R"(
local client = oauth.new({ token_url = AS .. "/token", client_id = "luaload", client_secret = "secret",
  grant = "password", username = "u" .. ll.vu.id, password = "pass", tags = { tenant = "blue" }, SETTINGS })
function default()
  local res = client:get(RS .. "/api/items", { tags = { kind = "api" } })
  ll.check(res, { ["items 200"] = function(r) return r ~= nil and r.status == 200 end })
  ll.sleep(0.1)
  OUTAGE
end
function teardown() out("stats", http.get(RS .. "/stats").body) end
)";

std::string journey(const std::string& settings, const std::string& outage = "") {
  std::string s = kJourney;
  s.replace(s.find("SETTINGS"), 8, settings);
  s.replace(s.find("OUTAGE"), 6, outage);
  return s;
}

TEST_F(OAuthRealServerTest, FiveSecondJwtsAreRenewedBeforeTheyExpireWithNoExpiredTokenRetries) {
  start_servers(5);
  auto r = run(R"(
options = { vus = 20, duration = "16s", thresholds = {
  http_req_failed = { "rate<0.01" },
  oauth_expired_token_retries = { "count==0" },
  ["oauth_token_refreshes{tenant:blue}"] = { "count>=100" },
  ["oauth_logins{tenant:blue}"] = { "count==20" },
} }
)" + journey("skew = 0.1"),
               {});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto m = metrics();
  const auto s = stats(r);
  ASSERT_FALSE(s.is_discarded()) << r.out;
  EXPECT_EQ(s["api_expired"].get<int>(), 0) << s.dump();
  EXPECT_EQ(s["rejected_refreshes"].get<int>(), 0) << s.dump();
  EXPECT_GE(s["refreshes"].get<int>(), 100) << s.dump();
  EXPECT_EQ(count(m, "oauth_expired_token_retries"), 0);
  EXPECT_EQ(m["http_req_failed"]["values"]["passes"].get<double>(), 0);
  EXPECT_EQ(m["checks"]["values"]["fails"].get<double>(), 0);
}

TEST_F(OAuthRealServerTest, AnAuthorizationServerOutageCostsNothingWhileTokensAreValid) {
  start_servers(10);
  // VU 1 starts a 4 s outage of the token endpoint 3 s into the run, while every token is due for renewal around
  // then (skew 0.5: renew half-way through the lifetime) but still valid for about 4.5 s more.
  auto r = run(R"(
options = { vus = 10, duration = "14s", thresholds = { ["http_req_failed{kind:api}"] = { "rate==0" } } }
local started, outage = ll.now(), false
)" + journey("skew = 0.5", R"(if ll.vu.id == 1 and not outage and ll.now() - started > 3000 then
    outage = true
    http.post(RS .. "/admin/outage?seconds=4")
  end)"),
               {});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto s = stats(r);
  ASSERT_FALSE(s.is_discarded()) << r.out;
  EXPECT_GT(s["outage_refusals"].get<int>(), 0) << "the outage hit renewals: " << s.dump();
  EXPECT_EQ(s["api_expired"].get<int>(), 0) << s.dump();
  EXPECT_GE(s["refreshes"].get<int>(), 10) << "renewals resumed after the outage: " << s.dump();
  const auto m = metrics();
  EXPECT_EQ(m["checks"]["values"]["fails"].get<double>(), 0) << "no iteration lost to the outage";
  EXPECT_EQ(count(m, "oauth_expired_token_retries"), 0);
}

TEST_F(OAuthRealServerTest, ATokenTheServerRejectsIsRetriedOnceAndCountedSoAThresholdCanDemandZero) {
  start_servers(2);
  auto r = run(R"(
options = { thresholds = { oauth_expired_token_retries = { "count==0" } } }
function default()
  local client = oauth.new({ token_url = AS .. "/token", client_id = "luaload", client_secret = "secret",
    grant = "password", username = "u1", password = "pass" })
  client:token()
  client.renew_at, client.expires_at = math.huge, nil   -- pretend the token never ends
  ll.sleep(2.5)
  out("status", client:get(RS .. "/api/items").status)
end
)",
               {"-i", "1"});
  EXPECT_EQ(r.exit_code, 99) << r.out << r.err;
  EXPECT_NE(r.out.find("status=200"), std::string::npos) << r.out;
  EXPECT_EQ(count(metrics(), "oauth_expired_token_retries"), 1);
}

TEST_F(OAuthRealServerTest, ASharedTokenIsFetchedOncePerWorkerWhenAThousandVusStartTogether) {
  start_servers(60);
  auto r = run(R"(
options = { vus = 1000, iterations = 1000, thresholds = { checks = { "rate==1" } } }
local client = oauth.new({ token_url = AS .. "/token", client_id = "luaload", client_secret = "secret",
  grant = "client_credentials", shared = true })
function default()
  local res = client:get(RS .. "/api/items")
  ll.check(res, { ["items 200"] = function(r) return r ~= nil and r.status == 200 end })
end
function teardown() out("stats", http.get(RS .. "/stats").body) end
)",
               {"--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto s = stats(r);
  ASSERT_FALSE(s.is_discarded()) << r.out;
  EXPECT_EQ(s["token_requests"].get<int>(), 2) << "one per worker: " << s.dump();
  EXPECT_EQ(s["api_ok"].get<int>(), 1000) << s.dump();
  EXPECT_EQ(count(metrics(), "oauth_logins"), 2);
}

}  // namespace
}  // namespace luaload::test
