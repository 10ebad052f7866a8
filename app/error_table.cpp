// SPDX-License-Identifier: MIT
#include "app/error_table.hpp"

namespace luaload::app {

bool ErrorTable::add(const std::string& message, uint64_t count, const std::string& traceback) {
  auto it = counts_.find(message);
  if (it == counts_.end()) {
    // The overflow entry itself does not count against the cap: it is where the rest goes.
    const size_t kept = counts_.size() - counts_.count(kOverflowMessage);
    const bool full = message != kOverflowMessage && kept >= kMaxDistinct;
    it = counts_.try_emplace(full ? std::string(kOverflowMessage) : message, 0).first;
    const bool added = it->second == 0;
    it->second += count;
    if (added && !full && message != kOverflowMessage) tracebacks_[message] = traceback;
    return added;
  }
  it->second += count;
  return false;
}

const std::string& ErrorTable::traceback(const std::string& message) const {
  static const std::string kNone;
  auto it = tracebacks_.find(message);
  return it != tracebacks_.end() ? it->second : kNone;
}

}  // namespace luaload::app
