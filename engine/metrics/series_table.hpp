// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "engine/metrics/sink.hpp"

namespace luaload::engine::metrics {

// The sinks of a registry's series, by 64-bit key (metric << 32 | tag set). Open addressing over a power-of-two
// slot array with Fibonacci hashing: a lookup is a multiply, a shift and usually one compare. (std::unordered_map
// reduces every hash modulo a prime, a 64-bit division on each of the dozen samples a request records.) Sinks
// are kept densely in insertion order; they move when the table grows, so a found Sink& is valid only until the
// next insert. Never shrinks: a registry clears sinks in place rather than removing series.
class SeriesTable {
 public:
  SeriesTable() : slots_(kInitialSlots, 0) {}

  Sink* find(uint64_t key) {
    const std::optional<uint32_t> index = index_of(key);
    return index ? &sinks_[*index] : nullptr;
  }

  // The position of the key's sink (stable: sinks are never removed), nullopt when absent.
  std::optional<uint32_t> index_of(uint64_t key) const {
    for (size_t slot = home(key);; slot = (slot + 1) & mask()) {
      const uint32_t index = slots_[slot];
      if (index == 0) return std::nullopt;
      if (keys_[index - 1] == key) return index - 1;
    }
  }

  // The key must not be present yet.
  Sink& insert(uint64_t key, MetricType type) {
    if ((keys_.size() + 1) * 4 > slots_.size() * 3) grow();
    keys_.push_back(key);
    sinks_.emplace_back(type);
    place(key, static_cast<uint32_t>(keys_.size()));
    return sinks_.back();
  }

  size_t size() const { return keys_.size(); }
  uint64_t key_at(size_t i) const { return keys_[i]; }
  Sink& sink_at(size_t i) { return sinks_[i]; }

 private:
  static constexpr size_t kInitialSlots = 64;
  static constexpr uint64_t kFibonacci = 0x9E3779B97F4A7C15ull;

  size_t mask() const { return slots_.size() - 1; }
  size_t home(uint64_t key) const { return static_cast<size_t>((key * kFibonacci) >> shift_); }

  void place(uint64_t key, uint32_t index) {
    size_t slot = home(key);
    while (slots_[slot] != 0) slot = (slot + 1) & mask();
    slots_[slot] = index;
  }

  void grow() {
    slots_.assign(slots_.size() * 2, 0);
    --shift_;
    for (size_t i = 0; i < keys_.size(); ++i) place(keys_[i], static_cast<uint32_t>(i + 1));
  }

  std::vector<uint64_t> keys_;
  std::vector<Sink> sinks_;
  std::vector<uint32_t> slots_;  // index + 1 into keys_/sinks_; 0 = empty
  int shift_ = 64 - 6;           // 64 - log2(slots_.size())
};

}  // namespace luaload::engine::metrics
