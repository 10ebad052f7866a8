// SPDX-License-Identifier: MIT
// IPv6 end to end: `luaload run` against the built-in target listening on the IPv6 loopback, through a bracketed
// URL. Skipped on machines without an IPv6 loopback.
#include <gtest/gtest.h>

#include "target_script_test.hpp"

namespace luaload::test {
namespace {

constexpr const char* kIpv6Prelude = R"(
local http = require("luaload.http")
local ll = require("luaload")
local base = ll.env.TARGET
local function out(key, value) print(key .. "=" .. tostring(value)) end
)";

class Ipv6Test : public TargetScriptTest {
 protected:
  Ipv6Test() : TargetScriptTest(kIpv6Prelude) {}

  // False when this machine cannot listen on ::1.
  bool start_on_ipv6_loopback() {
    engine::target::TargetOptions options;
    options.host = "::1";
    options.port = 0;
    std::string error;
    target_ = engine::target::TargetServer::create(options, &error);
    return target_ != nullptr;
  }
};

TEST_F(Ipv6Test, ScriptReachesTheTargetOnIpv6LoopbackThroughABracketedUrl) {
  if (!start_on_ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback on this machine";
  ASSERT_EQ(target_->url().rfind("http://[::1]:", 0), 0u) << target_->url();
  auto r = run(R"(
function default()
  local res = http.get(base .. "/echo")
  out("status", res.status)
  out("host", res:json().headers.host == base:sub(8))
end
)");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  LUALOAD_EXPECT_LINE(r, "status=200");
  LUALOAD_EXPECT_LINE(r, "host=true");
}

}  // namespace
}  // namespace luaload::test
