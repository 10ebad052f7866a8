// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace luaload::app {

// The run's script errors, counted by message, on the main thread (not thread-safe). Every worker sends up to 100
// distinct messages a second, and messages that embed ids or counters never repeat: past kMaxDistinct messages, new
// ones are counted under kOverflowMessage so that memory and the summary stay bounded over a long run.
class ErrorTable {
 public:
  static constexpr size_t kMaxDistinct = 1000;
  // The same text the workers use for the messages they did not keep.
  static constexpr const char* kOverflowMessage = "(more distinct errors than the report keeps)";

  // Adds `count` occurrences of `message`. True when the table got a new entry (the caller logs it once).
  bool add(const std::string& message, uint64_t count);

  // Message -> occurrences; at most kMaxDistinct messages plus kOverflowMessage.
  const std::map<std::string, uint64_t>& counts() const { return counts_; }

 private:
  std::map<std::string, uint64_t> counts_;
};

}  // namespace luaload::app
