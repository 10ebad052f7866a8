// SPDX-License-Identifier: MIT
#pragma once

// Invariant checks. Never use these for conditions the network or a script can cause: those are results or Lua
// errors (see docs/architecture.md, "Errors").
#include <cstdio>
#include <cstdlib>

namespace luaload::core {
[[noreturn]] inline void check_failed(const char* expr, const char* file, int line, const char* message) {
  std::fprintf(stderr, "luaload: internal error: %s (%s) at %s:%d\n", message, expr, file, line);
  std::abort();
}
}  // namespace luaload::core

// Fatal in every build.
#define LUALOAD_CHECK(expr, message) \
  ((expr) ? static_cast<void>(0) : ::luaload::core::check_failed(#expr, __FILE__, __LINE__, message))

// Debug builds only.
#ifdef NDEBUG
#define LUALOAD_ASSERT(expr) static_cast<void>(0)
#else
#define LUALOAD_ASSERT(expr) LUALOAD_CHECK(expr, "assertion failed")
#endif
