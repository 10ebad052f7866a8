// SPDX-License-Identifier: MIT
#include "engine/metrics/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace luaload::engine::metrics {
namespace {

constexpr double kZeroBelow = 0x1p-40;
constexpr double kClampFrom = 0x1p64;
constexpr int kMantissaShift = 52 - 6;  // keeps the 11 exponent bits and the top 6 mantissa bits
constexpr int32_t kExponentBias = 1023;
// Slack added around a key when an array grows, so that a distribution drifting slowly does not reallocate on
// every new bucket: one octave each way.
constexpr int32_t kGrowSlack = Histogram::kSubBuckets;

int32_t floor_div(int32_t a, int32_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

int32_t Histogram::key_of(double magnitude) {
  if (!(magnitude < kClampFrom)) return kMaxKey;
  if (magnitude < kZeroBelow) return kMinKey;
  const auto raw = static_cast<int32_t>(std::bit_cast<uint64_t>(magnitude) >> kMantissaShift);
  return raw - kExponentBias * kSubBuckets;
}

double Histogram::lower_bound(int32_t key) {
  const int32_t octave = floor_div(key, kSubBuckets);
  const int32_t sub = key - octave * kSubBuckets;
  return std::ldexp(1.0 + static_cast<double>(sub) / kSubBuckets, octave);
}

double Histogram::upper_bound(int32_t key) { return lower_bound(key + 1); }

void Histogram::add(double value) {
  if (std::isnan(value)) return;
  if (count_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  ++count_;
  sum_ += value;
  const double magnitude = std::fabs(value);
  if (magnitude < kZeroBelow) {
    ++zero_;
  } else if (value > 0) {
    positive_.add(key_of(magnitude), 1);
  } else {
    negative_.add(key_of(magnitude), 1);
  }
}

void Histogram::merge(const Histogram& other) {
  if (other.count_ == 0) return;
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  sum_ += other.sum_;
  zero_ += other.zero_;
  positive_.merge(other.positive_);
  negative_.merge(other.negative_);
}

void Histogram::clear() {
  count_ = 0;
  sum_ = min_ = max_ = 0;
  zero_ = 0;
  positive_.clear();
  negative_.clear();
}

double Histogram::clamped(double value) const { return std::clamp(value, min_, max_); }

// Ranks run from the most negative value up: negative buckets by decreasing magnitude, zero, positive buckets.
double Histogram::value_at_rank(uint64_t rank) const {
  if (rank == 0) return min_;
  if (rank + 1 >= count_) return max_;
  uint64_t seen = 0;
  const auto& negative = negative_.counts();
  for (size_t i = negative.size(); i-- > 0;) {
    seen += negative[i];
    if (rank < seen) return clamped(-midpoint(negative_.first() + static_cast<int32_t>(i)));
  }
  seen += zero_;
  if (rank < seen) return clamped(0);
  const auto& positive = positive_.counts();
  for (size_t i = 0; i < positive.size(); ++i) {
    seen += positive[i];
    if (rank < seen) return clamped(midpoint(positive_.first() + static_cast<int32_t>(i)));
  }
  return max_;
}

double Histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  const double position = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(count_ - 1);
  const double below = std::floor(position);
  const double fraction = position - below;
  const double low = value_at_rank(static_cast<uint64_t>(below));
  if (fraction == 0) return low;
  const double high = value_at_rank(static_cast<uint64_t>(below) + 1);
  return low + (high - low) * fraction;
}

Histogram::Buckets Histogram::buckets() const {
  Buckets out;
  out.zero = zero_;
  positive_.append_sparse(out.positive);
  negative_.append_sparse(out.negative);
  return out;
}

namespace {

bool valid_sparse(const std::vector<Histogram::Bucket>& buckets, uint64_t& total) {
  for (size_t i = 0; i < buckets.size(); ++i) {
    const Histogram::Bucket& b = buckets[i];
    if (b.key < Histogram::kMinKey || b.key > Histogram::kMaxKey) return false;
    if (i > 0 && buckets[i - 1].key >= b.key) return false;
    total += b.count;
  }
  return true;
}

}  // namespace

std::optional<Histogram> Histogram::from_buckets(const Buckets& buckets, uint64_t count, double sum, double min,
                                                 double max) {
  uint64_t total = buckets.zero;
  if (!valid_sparse(buckets.positive, total) || !valid_sparse(buckets.negative, total)) return std::nullopt;
  if (total != count || (count > 0 && !(min <= max))) return std::nullopt;
  Histogram h;
  h.count_ = count;
  h.sum_ = count ? sum : 0;
  h.min_ = count ? min : 0;
  h.max_ = count ? max : 0;
  h.zero_ = buckets.zero;
  for (const Bucket& b : buckets.positive) h.positive_.add(b.key, b.count);
  for (const Bucket& b : buckets.negative) h.negative_.add(b.key, b.count);
  return h;
}

void Histogram::BucketArray::grow_to_include(int32_t key) {
  if (counts_.empty()) {
    first_ = std::max(kMinKey, key - kGrowSlack);
    counts_.assign(static_cast<size_t>(std::min(kMaxKey, key + kGrowSlack) - first_ + 1), 0);
    return;
  }
  const int32_t last = first_ + static_cast<int32_t>(counts_.size()) - 1;
  const int32_t new_first = key < first_ ? std::max(kMinKey, key - kGrowSlack) : first_;
  const int32_t new_last = key > last ? std::min(kMaxKey, key + kGrowSlack) : last;
  std::vector<uint64_t> grown(static_cast<size_t>(new_last - new_first + 1), 0);
  std::copy(counts_.begin(), counts_.end(), grown.begin() + (first_ - new_first));
  counts_ = std::move(grown);
  first_ = new_first;
}

void Histogram::BucketArray::merge(const BucketArray& other) {
  if (other.counts_.empty()) return;
  // Growing to both ends first means at most two reallocations, however many buckets are merged.
  add(other.first_, 0);
  add(other.first_ + static_cast<int32_t>(other.counts_.size()) - 1, 0);
  const size_t offset = static_cast<size_t>(other.first_ - first_);
  for (size_t i = 0; i < other.counts_.size(); ++i) counts_[offset + i] += other.counts_[i];
}

void Histogram::BucketArray::clear() { std::fill(counts_.begin(), counts_.end(), 0); }

void Histogram::BucketArray::append_sparse(std::vector<Bucket>& out) const {
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0) out.push_back({first_ + static_cast<int32_t>(i), counts_[i]});
  }
}

}  // namespace luaload::engine::metrics
