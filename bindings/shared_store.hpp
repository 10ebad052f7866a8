// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace luaload::bindings {

// ll.shared: string keys to string values, one store for every worker thread of a run (RuntimeConfig::shared is
// copied to each worker, so they all hold the same one). With the shared-iterations budget it is the one store
// that crosses threads on purpose; every call takes the mutex and copies the bytes in or out, so no thread ever
// sees another's Lua values.
//
// Threading: any thread. Bounded: at most kMaxKeys keys and kMaxBytes of keys plus values; a set() that would pass
// either bound stores nothing and returns false.
class SharedStore {
 public:
  static constexpr size_t kMaxKeys = 10'000;
  static constexpr size_t kMaxBytes = 16 * 1024 * 1024;
  static constexpr size_t kMaxKeyBytes = 4096;

  std::optional<std::string> get(std::string_view key) const;
  // Stores `value` under `key`, or removes the key when `value` is nullopt (always succeeds). False, with nothing
  // changed, when the store would pass its bounds.
  bool set(std::string_view key, std::optional<std::string_view> value);

  size_t size() const;
  size_t bytes() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::string> values_;
  size_t bytes_ = 0;  // sum of key and value sizes
};

}  // namespace luaload::bindings
