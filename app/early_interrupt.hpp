// SPDX-License-Identifier: MIT
#pragma once

namespace luaload::app {

// Before `luaload run` has its event loop (while it runs the script's init code to read the options, which may take
// long), a Ctrl-C or SIGTERM is remembered instead of killing the process: the run then ends at once with its
// summary and exit code 105. A second one quits at once with 105. Main thread; call before reading the script.
// TestRun's own signal handlers replace these once its loop is open.
void catch_early_interrupts();
// True when a signal arrived since catch_early_interrupts().
bool early_interrupt_pending();

}  // namespace luaload::app
