// SPDX-License-Identifier: MIT
#pragma once

namespace luaload::app {

// k6's exit codes (k6 errext/exitcodes), so CI scripts written for k6 read ours the same way.
enum ExitCode : int {
  kExitOk = 0,
  kExitThresholdsFailed = 99,
  kExitSetupTimeout = 100,
  kExitTeardownTimeout = 101,
  kExitInvalidConfig = 104,
  kExitExternalAbort = 105,
  kExitScriptException = 107,
  kExitScriptAborted = 108,
  // luaload: `compare` or `run --baseline` found a regression beyond --max-regression (not a k6 code).
  kExitRegression = 120,
};

}  // namespace luaload::app
