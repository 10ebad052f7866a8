// SPDX-License-Identifier: MIT
// The runtime primitives that only a whole run shows: ll.shared across worker threads.
#include <gtest/gtest.h>

#include "integration/target_script_test.hpp"

namespace luaload::test {
namespace {

class RuntimePrimitivesTest : public TargetScriptTest {
 protected:
  RuntimePrimitivesTest() : TargetScriptTest("local ll = require('luaload')\n") {}
  void SetUp() override { start_target({}); }
};

// Two VUs on two worker threads (each worker takes one VU of the scenario): what VU 1 stores, VU 2 reads.
TEST_F(RuntimePrimitivesTest, AValueStoredInOneWorkerIsReadInAnother) {
  auto r = run(R"lua(
    options = { scenarios = { s = { executor = "per-vu-iterations", vus = 2, iterations = 1 } } }
    function default()
      if ll.vu.id == 1 then
        ll.shared.set("era", "modern from vu 1")
        return
      end
      local deadline = ll.now() + 5000
      while ll.shared.get("era") == nil and ll.now() < deadline do ll.sleep(0.01) end
      print("seen=" .. tostring(ll.shared.get("era")))
    end
  )lua", {"--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  LUALOAD_EXPECT_LINE(r, "seen=modern from vu 1");
}

}  // namespace
}  // namespace luaload::test
