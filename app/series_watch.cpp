// SPDX-License-Identifier: MIT
#include "app/series_watch.hpp"

#include <charconv>
#include <cstdlib>
#include <cstring>

namespace luaload::app {

size_t SeriesWatch::limit_from_env() {
  const char* text = std::getenv("LUALOAD_SERIES_WARN_LIMIT");
  if (text == nullptr) return kSeriesWarnLimit;
  size_t value = 0;
  const char* end = text + std::strlen(text);
  auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end || value == 0) return kSeriesWarnLimit;
  return value;
}

std::string SeriesWatch::warning(size_t series) const {
  return "warning: the test has passed " + std::to_string(limit_) + " metric series (" + std::to_string(series) +
         " now; every distinct tag set of a metric is one, and memory grows with each). The usual cause is URLs "
         "with ids or queries in them, each its own `name` tag: name them with the request param "
         "`tags = { name = \"/items/{id}\" }` (docs/metrics.md, \"Tags, series and sub-metrics\")";
}

}  // namespace luaload::app
