// SPDX-License-Identifier: MIT
#pragma once

#include <cstdio>
#include <string>

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

// Init code has no coroutine to stop, so ll.abort() there raises an error with this marker (bindings/ll.cpp); a
// failed init whose error carries it is an abort (108), not a script exception (107).
inline constexpr const char* kInitAbortMarker = "test aborted: ";

// Reports a failed init (options read or VU creation) and returns its exit code.
inline int init_failure(const std::string& error) {
  if (auto at = error.find(kInitAbortMarker); at != std::string::npos) {
    const std::string message = error.substr(at + std::string(kInitAbortMarker).size());
    std::fprintf(stderr, "luaload: test aborted by the script: %s\n", message.substr(0, message.find('\n')).c_str());
    return kExitScriptAborted;
  }
  std::fprintf(stderr, "luaload: script error: %s\n", error.c_str());
  return kExitScriptException;
}

}  // namespace luaload::app
