// SPDX-License-Identifier: MIT
// The HTML report in a real browser: headless Chromium (Debian's `chromium`) loads a report written by a short
// run, offline (every host name resolves to nothing), takes a screenshot and dumps the DOM it built, in which the
// plotted series must be there with their path data.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <regex>

#include "support/files.hpp"
#include "support/nginx_fixture.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace luaload::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kScript = R"(
local http = require("luaload.http")
local ll = require("luaload")
options = { thresholds = { http_req_duration = { "p(95)<5000" } } }
function default()
  http.get(ll.env.URL, { tags = { name = "<script>alert('x')</script>" } })
  ll.sleep(0.01)
end
)";

std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser"}) {
    for (const char* dir : {"/usr/bin", "/usr/local/bin", "/snap/bin"}) {
      const fs::path path = fs::path(dir) / name;
      if (access(path.c_str(), X_OK) == 0) return path.string();
    }
  }
  return "";
}

class ReportBrowserTest : public NginxTest {
 protected:
  ProcessResult chromium(const std::string& binary, std::vector<std::string> extra) {
    std::vector<std::string> argv = {binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                     "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1400,1800",
                                     "--host-resolver-rules=MAP * ~NOTFOUND",
                                     "--user-data-dir=" + (dir_.path() / "profile").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, std::chrono::milliseconds(15'000));
  }

  TempDir dir_;
};

TEST_F(ReportBrowserTest, ChromiumRendersTheChartsOfARunsReportOffline) {
  const std::string binary = find_chromium();
  if (binary.empty()) GTEST_SKIP() << "chromium is not installed (bash .ci/setup.sh installs it)";
  const fs::path report = dir_.path() / "report.html";
  const auto script = dir_.write_file("script.lua", kScript);
  auto run = run_process({LUALOAD_BINARY, "run", script.string(), "--quiet", "-u", "2", "-d", "1500ms", "-e",
                          "URL=" + nginx().url("/"), "--report", report.string()},
                         std::chrono::milliseconds(20'000));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;

  const std::string html = read_text(report);
  const std::string without_svg_ns = std::regex_replace(html, std::regex("xmlns=\"http://www.w3.org/2000/svg\""), "");
  EXPECT_FALSE(std::regex_search(without_svg_ns, std::regex("https?:|src=|<link|url\\(")));

  const fs::path png = dir_.path() / "report.png";
  auto shot = chromium(binary, {"--screenshot=" + png.string(), "file://" + report.string()});
  ASSERT_TRUE(fs::exists(png)) << shot.err;
  const std::string image = read_text(png);
  ASSERT_GT(image.size(), 24u);
  EXPECT_EQ(image.substr(1, 3), "PNG");
  EXPECT_GT(image.size(), 20'000u);  // a blank page compresses to a few kB

  auto dom = chromium(binary, {"--dump-dom", "file://" + report.string()});
  ASSERT_TRUE(dom.ok()) << dom.err;
  for (const char* series : {"req/s", "p50", "p95", "p99", "vus", "error rate"}) {
    const std::regex plotted("<path class=\"series\" data-series=\"" + std::string(series) + "\"[^>]* d=\"M[0-9.]+ [0-9.]+");
    EXPECT_TRUE(std::regex_search(dom.out, plotted)) << series;
  }
  EXPECT_NE(dom.out.find("<rect class=\"bar\""), std::string::npos);
  // The request name arrived as text, not as an element.
  EXPECT_EQ(dom.out.find("<script"), std::string::npos);
  EXPECT_NE(dom.out.find("&lt;script&gt;alert('x')&lt;/script&gt;"), std::string::npos);
}

}  // namespace
}  // namespace luaload::test
