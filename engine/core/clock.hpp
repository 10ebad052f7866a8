// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <ctime>

namespace luaload::core {

// Monotonic nanoseconds. Every duration the engine measures comes from this clock; wall time is used only for
// timestamps in reports.
inline int64_t mono_now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// Wall-clock milliseconds since the Unix epoch, for timestamps in outputs.
inline int64_t wall_now_ms() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// Injected where time math must be testable without sleeping (schedules, thresholds with delayAbortEval).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now_ns() const = 0;
};

class MonotonicClock final : public Clock {
 public:
  int64_t now_ns() const override { return mono_now_ns(); }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ns = 0) : now_(start_ns) {}
  int64_t now_ns() const override { return now_; }
  void advance_ns(int64_t delta) { now_ += delta; }
  void set_ns(int64_t t) { now_ = t; }

 private:
  int64_t now_;
};

}  // namespace luaload::core
