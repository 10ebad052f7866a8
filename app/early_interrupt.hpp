// SPDX-License-Identifier: MIT
#pragma once

namespace luaload::app {

// Before `luaload run` has its event loop (while it runs the script's init code to read the options, which may take
// long), a Ctrl-C or SIGTERM is remembered instead of killing the process: the init code is stopped and the run
// ends at once with its summary, its files and exit code 105. A third one quits at once with 105, without the
// files (for init code stuck in a C call). Main thread; call before reading the script.
// TestRun's own signal handlers replace these once its loop is open.
void catch_early_interrupts();
// True when a signal arrived since catch_early_interrupts().
bool early_interrupt_pending();

}  // namespace luaload::app
