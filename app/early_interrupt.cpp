// SPDX-License-Identifier: MIT
#include "app/early_interrupt.hpp"

#include <unistd.h>

#include <csignal>
#include <cstring>

#include "app/exit_codes.hpp"

namespace luaload::app {
namespace {

volatile std::sig_atomic_t g_interrupts = 0;

// Async-signal-safe: only a flag, write(2) and _exit. The init code checks the flag every few thousand
// instructions (bindings::read_script_options), so the first signal stops it; only code stuck inside one C call
// (os.execute, io.read) ignores it, which is what the third signal is for.
void on_early_signal(int) {
  g_interrupts = g_interrupts + 1;
  if (g_interrupts >= 3) _exit(kExitExternalAbort);
  constexpr const char kFirst[] =
      "\nluaload: stopping the script's init code; the summary and files are still written\n";
  constexpr const char kSecond[] =
      "\nluaload: still stopping (the init code is inside a C call); Ctrl-C once more quits without the files\n";
  const char* message = g_interrupts == 1 ? kFirst : kSecond;
  const size_t length = g_interrupts == 1 ? sizeof(kFirst) - 1 : sizeof(kSecond) - 1;
  [[maybe_unused]] ssize_t written = write(STDERR_FILENO, message, length);
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
