// SPDX-License-Identifier: MIT
#include "app/early_interrupt.hpp"

#include <unistd.h>

#include <csignal>
#include <cstring>

#include "app/exit_codes.hpp"

namespace luaload::app {
namespace {

volatile std::sig_atomic_t g_interrupts = 0;

// Async-signal-safe: only a flag, write(2) and _exit.
void on_early_signal(int) {
  g_interrupts = g_interrupts + 1;
  if (g_interrupts >= 2) _exit(kExitExternalAbort);
  constexpr const char kMessage[] =
      "\nluaload: stopping once the script's init code returns (Ctrl-C again to quit now)\n";
  [[maybe_unused]] ssize_t written = write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
}

}  // namespace

void catch_early_interrupts() {
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_handler = on_early_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool early_interrupt_pending() { return g_interrupts > 0; }

}  // namespace luaload::app
