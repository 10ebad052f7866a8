// SPDX-License-Identifier: MIT
// Memory per VU: 10,000 VUs sleeping in an iteration must cost <= 20 KB each. Measured as the Lua heap plus the
// growth of the process RSS while they exist.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "bindings/runtime_fixture.hpp"

namespace luaload::bindings::test {
namespace {

long rss_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return 0;
}

TEST_F(RuntimeTest, TenThousandSleepingVusFitInTwentyKilobytesEach) {
  constexpr int kVus = 10000;
  load(R"(
    local ll = require("luaload")
    local http = require("luaload.http")
    local token
    function default(data)
      token = "t" .. ll.vu.id
      ll.sleep(60)
    end
  )");
  const long rss_before = rss_kb();
  std::vector<std::shared_ptr<std::optional<IterationOutcome>>> outcomes;
  for (int i = 1; i <= kVus; ++i) {
    outcomes.push_back(start(vu(static_cast<uint64_t>(i))));
  }
  uv_run(&loop_, UV_RUN_NOWAIT);
  const long rss_growth_kb = rss_kb() - rss_before;
  const double per_vu_kb = static_cast<double>(rss_growth_kb) / kVus;
  std::printf("10000 sleeping VUs: RSS growth %ld KB (%.2f KB per VU), whole process %ld KB (%.2f KB per VU)\n",
              rss_growth_kb, per_vu_kb, rss_kb(), static_cast<double>(rss_kb()) / kVus);
  // Sanitizer builds inflate every allocation; the budget applies to normal builds.
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_LE(per_vu_kb, 20.0);
#endif
  for (auto& body : vus_) {
    body->interrupt();
  }
  EXPECT_TRUE(luaload::test::run_until(&loop_, [&] {
    for (auto& o : outcomes) {
      if (!o->has_value()) return false;
    }
    return true;
  }, 20000));
}

}  // namespace
}  // namespace luaload::bindings::test
