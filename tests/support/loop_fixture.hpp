// SPDX-License-Identifier: MIT
#pragma once

#include <gtest/gtest.h>
#include <uv.h>

namespace luaload::test {

// A fresh uv loop per test, initialised in the constructor so that subclass members may use it. Subclasses close their handles in TearDown() before calling LoopFixture::TearDown(),
// which runs the loop dry (bounded) and asserts that it closes: no handle or request was leaked.
class LoopFixture : public ::testing::Test {
 protected:
  LoopFixture() { loop_ok_ = uv_loop_init(&loop_) == 0; }
  void SetUp() override { ASSERT_TRUE(loop_ok_); }
  void TearDown() override {
    for (int i = 0; i < 1000 && uv_run(&loop_, UV_RUN_NOWAIT) != 0; ++i) {
    }
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  uv_loop_t loop_{};
  bool loop_ok_ = false;
};

}  // namespace luaload::test
