// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace luaload::engine::metrics {

// A mergeable log-linear histogram ("log2-linear-64"), the storage of Trend metrics.
//
// Scheme: a magnitude |v| in [2^e, 2^(e+1)) falls in sub-bucket m = floor((|v| / 2^e - 1) * 64) of octave e; its
// bucket key is 64 * e + m (e may be negative). Positive and negative values have separate buckets keyed by their
// magnitude; |v| < 2^-40 (about 9.1e-13) counts in a single zero bucket; |v| >= 2^64 counts in the last bucket
// (key 4095). A bucket is reported as its midpoint, clamped into [min, max], so any value with a magnitude in
// [2^-40, 2^64) comes back within 1/128 (0.79%) of itself. Time values are milliseconds, so 1 µs .. 1 h is well
// inside. Keys are derived from the IEEE-754 bits (exponent and top 6 mantissa bits), so they are exact and
// identical on every machine: merging is adding counts key by key, and merge(A, B) has exactly the buckets,
// count, min and max of a histogram fed every sample of A and B.
//
// Memory: two lazily grown dense arrays of 8-byte counts spanning the keys seen, at most 6656 per sign whatever
// the number of samples (about 1.7 KB per octave of dynamic range in use). NaN samples are ignored.
//
// Not thread-safe: one owner at a time (a worker's registry, then the main thread's store after a move/copy).
class Histogram {
 public:
  static constexpr int kSubBuckets = 64;
  static constexpr int32_t kMinKey = -40 * kSubBuckets;     // first key of octave 2^-40
  static constexpr int32_t kMaxKey = 64 * kSubBuckets - 1;  // last key of octave 2^63

  struct Bucket {
    int32_t key = 0;
    uint64_t count = 0;
    bool operator==(const Bucket&) const = default;
  };
  // The sparse form used for export and import (docs/summary-json.md): non-empty buckets in ascending key order.
  struct Buckets {
    uint64_t zero = 0;
    std::vector<Bucket> positive;
    std::vector<Bucket> negative;  // keyed by magnitude
    bool operator==(const Buckets&) const = default;
  };

  void add(double value);
  void merge(const Histogram& other);
  // Forgets every sample but keeps the allocated buckets, so a registry can reuse a series without allocating.
  void clear();

  bool empty() const { return count_ == 0; }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double min() const { return count_ ? min_ : 0; }  // 0 when empty, as k6 reports
  double max() const { return count_ ? max_ : 0; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0; }
  // k6's percentile: the value at fractional rank p/100 * (count - 1), interpolated linearly between the two
  // neighbouring ranks. p is clamped to [0, 100]; percentile(0) == min(), percentile(100) == max(); 0 when empty.
  double percentile(double p) const;
  double median() const { return percentile(50); }

  Buckets buckets() const;
  // Rebuilds a histogram from its exported form; nullopt when the parts disagree (bucket counts not summing to
  // `count`, keys out of range or unsorted, min > max).
  static std::optional<Histogram> from_buckets(const Buckets& buckets, uint64_t count, double sum, double min,
                                               double max);

  // The scheme, for documentation and tests: the key of a magnitude >= 2^-40, and a key's bounds and midpoint.
  static int32_t key_of(double magnitude);
  static double lower_bound(int32_t key);
  static double upper_bound(int32_t key);
  static double midpoint(int32_t key) { return (lower_bound(key) + upper_bound(key)) / 2; }

  size_t allocated_buckets() const { return positive_.capacity() + negative_.capacity(); }

 private:
  // Counts for a contiguous key range [first_, first_ + counts_.size()), grown on demand.
  class BucketArray {
   public:
    void add(int32_t key, uint64_t n) {
      const int64_t index = static_cast<int64_t>(key) - first_;
      if (index < 0 || index >= static_cast<int64_t>(counts_.size())) {
        grow_to_include(key);
        counts_[key - first_] += n;
        return;
      }
      counts_[index] += n;
    }
    void merge(const BucketArray& other);
    void clear();
    void append_sparse(std::vector<Bucket>& out) const;
    int32_t first() const { return first_; }
    const std::vector<uint64_t>& counts() const { return counts_; }
    size_t capacity() const { return counts_.capacity(); }

   private:
    void grow_to_include(int32_t key);
    int32_t first_ = 0;
    std::vector<uint64_t> counts_;
  };

  double value_at_rank(uint64_t rank) const;
  double clamped(double value) const;

  uint64_t count_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
  uint64_t zero_ = 0;
  BucketArray positive_;
  BucketArray negative_;
};

}  // namespace luaload::engine::metrics
