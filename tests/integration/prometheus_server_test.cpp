// SPDX-License-Identifier: MIT
// A real Prometheus (Debian's `prometheus`, on 127.0.0.1 with its own temporary storage) scrapes a running
// `luaload run --metrics-addr` and can query what it scraped. Skipped only when the binary is not installed (CI
// installs it through .ci/setup.sh).
#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>
#include <thread>

#include "integration/outputs_fixture.hpp"

namespace luaload::test {
namespace {

constexpr const char* kPrometheus = "/usr/bin/prometheus";

constexpr const char* kScript = R"(
local http = require("luaload.http")
local ll = require("luaload")
function default()
  http.get(ll.env.URL)
  ll.sleep(0.05)
end
)";

// Waits (bounded) until `log` shows the port luaload's metrics endpoint bound; 0 on timeout.
int metrics_port(const std::filesystem::path& log) {
  const std::regex port_line("metrics on port ([0-9]+)");
  for (int i = 0; i < 100; ++i) {
    std::smatch match;
    const std::string text = read_text(log);
    if (std::regex_search(text, match, port_line)) return std::stoi(match[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

TEST_F(OutputsTest, ARealPrometheusScrapesTheMetricsEndpoint) {
  if (::access(kPrometheus, X_OK) != 0) GTEST_SKIP() << kPrometheus << " is not installed";
  BackgroundProcess run;
  std::string error;
  ASSERT_TRUE(run.start(argv(kScript, {"-u", "2", "-d", "30s", "-e", "URL=" + nginx().url("/"), "--metrics-addr",
                                       "127.0.0.1:0"}),
                        dir_.path() / "run.log", &error))
      << error;
  const int port = metrics_port(dir_.path() / "run.log");
  ASSERT_GT(port, 0) << read_text(dir_.path() / "run.log");
  auto config = dir_.write_file("prometheus.yml", "global:\n  scrape_interval: 1s\nscrape_configs:\n"
                                                  "  - job_name: luaload\n    static_configs:\n"
                                                  "      - targets: ['127.0.0.1:" + std::to_string(port) + "']\n");
  const uint16_t web_port = pick_free_port();
  BackgroundProcess prometheus;
  ASSERT_TRUE(prometheus.start({kPrometheus, "--config.file=" + config.string(),
                                "--storage.tsdb.path=" + (dir_.path() / "tsdb").string(),
                                "--web.listen-address=127.0.0.1:" + std::to_string(web_port)},
                               dir_.path() / "prometheus.log", &error))
      << error;
  // Query until Prometheus has scraped a request count (it scrapes every second once started).
  const std::string query = "/api/v1/query?query=sum(luaload_http_reqs_total)";
  std::string answer;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline && answer.find("\"result\":[{") == std::string::npos) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    answer = blocking_get(web_port, query);
  }
  prometheus.stop(SIGTERM, std::chrono::milliseconds(5000));
  run.stop(SIGINT, std::chrono::milliseconds(10'000));
  const auto body = answer.substr(answer.find("\r\n\r\n") + 4);
  auto json = nlohmann::json::parse(body, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << answer << read_text(dir_.path() / "prometheus.log");
  EXPECT_EQ(json["status"], "success");
  ASSERT_EQ(json["data"]["result"].size(), 1u) << body;
  EXPECT_GT(std::stod(json["data"]["result"][0]["value"][1].get<std::string>()), 0);
}

}  // namespace
}  // namespace luaload::test
