// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace luaload::app {

// The live view's input: one entry per scenario (the run provides them; today a run has one scenario).
struct ScenarioStatus {
  std::string name;
  std::string executor;            // "constant-vus", ...
  int64_t elapsed_ns = 0;
  int64_t planned_ns = 0;          // 0 when the scenario is bounded by iterations only
  int64_t vus = 0;                 // VUs with an iteration in flight; -1 when unknown (shown as "-")
  int64_t max_vus = 0;
  uint64_t iterations = 0;         // completed
  int64_t planned_iterations = 0;  // 0 when bounded by time
};

// Test-wide figures shown under the scenarios.
struct LiveTotals {
  double requests_per_s = 0;       // over the last interval
  std::optional<double> p95_ms;    // http_req_duration so far; nullopt before the first request
  double error_rate = 0;           // http_req_failed so far
};

// How far a scenario is, in [0, 1]: by iterations when it has a planned count, else by time.
double scenario_progress(const ScenarioStatus& s);

// One line per scenario with a bar ("default  [=======>      ]  42%  12s/30s  vus 10/10  iters 1234") followed by
// a totals line ("req/s 1520  p95 12.3ms  errors 0.00%"). `color`: the bar and a non-zero error rate in ANSI colours.
std::vector<std::string> live_lines(const std::vector<ScenarioStatus>& scenarios, const LiveTotals& totals,
                                    bool color);

// The plain status line for logs (no terminal): "running default 12s/30s vus=10 iterations=1234 | req/s=1520
// p95=12.3ms errors=0.00%", scenarios separated by "; ".
std::string status_line(const std::vector<ScenarioStatus>& scenarios, const LiveTotals& totals);

// Redraws a block of lines in place on a terminal: each frame moves the cursor back to the first line of the
// previous frame and rewrites every line. Main thread only.
class LiveRedraw {
 public:
  // The bytes to write for this frame.
  std::string frame(const std::vector<std::string>& lines);
  // The bytes that leave the cursor on a fresh line below the last frame (empty when nothing was drawn).
  std::string finish();
  // The bytes that wipe the last frame and leave the cursor where it started, so a message can be printed there;
  // the next frame is then drawn below the message (empty when nothing is drawn).
  std::string erase();

 private:
  size_t drawn_lines_ = 0;
};

}  // namespace luaload::app
