// SPDX-License-Identifier: MIT
#include "engine/schedule/schedule_math.hpp"

#include <cmath>

namespace luaload::engine::schedule {

int64_t worker_share(int64_t total, size_t index, size_t count) {
  if (count == 0 || total <= 0) return 0;
  const auto n = static_cast<int64_t>(count);
  return (total + n - 1 - static_cast<int64_t>(index)) / n;
}

int64_t ramping_vus_at(int64_t start_vus, const std::vector<Stage>& stages, int64_t t) {
  int64_t from = start_vus;
  int64_t stage_start = 0;
  for (const auto& stage : stages) {
    int64_t stage_end = stage_start + stage.duration_ns;
    if (t < stage_end) {
      // Computed in long double: (target - from) * elapsed overflows 64 bits for hour-long stages.
      long double fraction = static_cast<long double>(t - stage_start) / static_cast<long double>(stage.duration_ns);
      return from + static_cast<int64_t>(static_cast<long double>(stage.target - from) * fraction);
    }
    from = stage.target;
    stage_start = stage_end;
  }
  return from;
}

ArrivalSchedule::ArrivalSchedule(int64_t start_rate, std::vector<Stage> stages, int64_t time_unit_ns)
    : stages_(std::move(stages)) {
  const double per_second = static_cast<double>(kSecondNs) / static_cast<double>(time_unit_ns);
  start_rate_ = static_cast<double>(start_rate) * per_second;
  for (const auto& stage : stages_) rates_.push_back(static_cast<double>(stage.target) * per_second);
}

ArrivalSchedule ArrivalSchedule::from(const ScenarioConfig& s) {
  if (s.executor == Executor::ConstantArrivalRate) {
    return ArrivalSchedule(s.rate, {Stage{s.duration_ns, s.rate}}, s.time_unit_ns);
  }
  return ArrivalSchedule(s.start_rate, s.stages, s.time_unit_ns);
}

double ArrivalSchedule::stage_count(size_t i) const {
  double from = i == 0 ? start_rate_ : rates_[i - 1];
  double seconds = static_cast<double>(stages_[i].duration_ns) / kSecondNs;
  return (from + rates_[i]) / 2 * seconds;
}

std::optional<int64_t> ArrivalSchedule::time_of(uint64_t k) {
  const double target = static_cast<double>(k);
  while (stage_ < stages_.size()) {
    const double in_stage = stage_count(stage_);
    if (target < count_before_ + in_stage) break;
    count_before_ += in_stage;
    stage_start_ns_ += stages_[stage_].duration_ns;
    ++stage_;
  }
  if (stage_ >= stages_.size()) return std::nullopt;
  // Within the stage: count(tau) = r0 * tau + (r1 - r0) / (2 D) * tau^2; solve count(tau) = target - before.
  const double r0 = stage_ == 0 ? start_rate_ : rates_[stage_ - 1];
  const double r1 = rates_[stage_];
  const double d = static_cast<double>(stages_[stage_].duration_ns) / kSecondNs;
  const double need = target - count_before_;
  const double a = (r1 - r0) / (2 * d);
  double tau = 0;
  if (need <= 0) {
    tau = 0;
  } else if (std::fabs(a) < 1e-12) {
    tau = need / r0;
  } else {
    double disc = std::max(0.0, r0 * r0 + 4 * a * need);
    // The numerically stable form of (-r0 + sqrt(disc)) / (2a).
    tau = 2 * need / (r0 + std::sqrt(disc));
  }
  return stage_start_ns_ + static_cast<int64_t>(std::llround(tau * kSecondNs));
}

double ArrivalSchedule::rate_per_second_at(int64_t t) const {
  int64_t start = 0;
  double from = start_rate_;
  for (size_t i = 0; i < stages_.size(); ++i) {
    int64_t end = start + stages_[i].duration_ns;
    if (t < end) {
      double fraction = static_cast<double>(t - start) / static_cast<double>(stages_[i].duration_ns);
      return from + (rates_[i] - from) * fraction;
    }
    from = rates_[i];
    start = end;
  }
  return from;
}

}  // namespace luaload::engine::schedule
