// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace luaload::app {

// The run's script errors, counted by message, with the traceback of each message's first occurrence, on the main
// thread (not thread-safe). Every worker sends up to kMaxDistinct distinct messages a second, and messages that
// embed ids or counters never repeat: past kMaxDistinct messages, new ones are counted under kOverflowMessage so
// that memory and the summary stay bounded over a long run.
class ErrorTable {
 public:
  static constexpr size_t kMaxDistinct = 1000;
  // The same text the workers use for the messages they did not keep.
  static constexpr const char* kOverflowMessage = "(more distinct errors than the report keeps)";

  // Adds `count` occurrences of `message`. True when the table got a new entry (the caller logs it once); its
  // traceback is then `traceback`.
  bool add(const std::string& message, uint64_t count, const std::string& traceback = {});

  // Message -> occurrences; at most kMaxDistinct messages plus kOverflowMessage.
  const std::map<std::string, uint64_t>& counts() const { return counts_; }
  // The traceback of a message's first occurrence (empty for kOverflowMessage and when none was given).
  const std::string& traceback(const std::string& message) const;

 private:
  std::map<std::string, uint64_t> counts_;
  std::map<std::string, std::string> tracebacks_;
};

}  // namespace luaload::app
