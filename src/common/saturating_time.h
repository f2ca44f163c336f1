// Time points from configured durations, clamped to the clock's range instead of overflowing
// (signed overflow is undefined behaviour, and in practice wraps a far future into the past).
// The config keeps durations to 10 years, so these clamp only what got past it. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <ratio>

namespace hdm {

// `t + d`, or the clock's max() / min() when that lies outside its range. `d` may be negative.
template <class Clock, class Dur>
constexpr std::chrono::time_point<Clock, Dur> SaturatingAdd(std::chrono::time_point<Clock, Dur> t,
                                                            std::chrono::milliseconds d) {
  using Point = std::chrono::time_point<Clock, Dur>;
  static_assert(std::ratio_less_equal_v<typename Dur::period, std::milli>,
                "the clock must count milliseconds or finer");
  using Rep = typename Dur::rep;
  constexpr Rep kPerMilli = std::chrono::duration_cast<Dur>(std::chrono::milliseconds(1)).count();
  const Point saturated = d.count() > 0 ? Point::max() : Point::min();
  Rep ticks = 0;
  if (__builtin_mul_overflow(d.count(), kPerMilli, &ticks)) return saturated;
  Rep sum = 0;
  if (__builtin_add_overflow(t.time_since_epoch().count(), ticks, &sum)) return saturated;
  return Point(Dur(sum));
}

// `t - d`, clamped like SaturatingAdd().
template <class Clock, class Dur>
constexpr std::chrono::time_point<Clock, Dur> SaturatingSub(std::chrono::time_point<Clock, Dur> t,
                                                            std::chrono::milliseconds d) {
  if (d == std::chrono::milliseconds::min()) {
    return SaturatingAdd(SaturatingAdd(t, std::chrono::milliseconds::max()),
                         std::chrono::milliseconds(1));
  }
  return SaturatingAdd(t, -d);
}

}  // namespace hdm
