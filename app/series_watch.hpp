// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace luaload::app {

// The number of series past which a run warns that its metrics memory keeps growing: about 3.0 KB per series
// with one worker, plus about 1.3 KB for each further worker recording the same series (measured; the command and
// figures are in docs/metrics.md, "Series and memory"), so 30 000 series is about 90 MB. A test that names its
// requests rarely passes a few thousand; one that tags raw URLs passes it after about 2 700 distinct URLs.
inline constexpr size_t kSeriesWarnLimit = 30'000;

// Watches the main store's series count and words the warning, once per run. Main thread only.
class SeriesWatch {
 public:
  explicit SeriesWatch(size_t limit = kSeriesWarnLimit) : limit_(limit) {}

  // The limit from LUALOAD_SERIES_WARN_LIMIT (a positive integer; meant for tests, see docs/metrics.md), else
  // kSeriesWarnLimit. A value that is not a positive integer is ignored.
  static size_t limit_from_env();

  // The warning (one line, no trailing newline) the first time `series` is above the limit; nullopt otherwise
  // and on every later call. Costs one compare when there is nothing to say.
  std::optional<std::string> check(size_t series) {
    if (warned_ || series <= limit_) return std::nullopt;
    warned_ = true;
    return warning(series);
  }

 private:
  std::string warning(size_t series) const;

  size_t limit_;
  bool warned_ = false;
};

}  // namespace luaload::app
