// Clock: the one place the daemon reads time from, so tests can advance time instead of
// sleeping. Implementations are thread-safe.
#pragma once

#include <atomic>
#include <chrono>

namespace hdm {

using SysClock = std::chrono::system_clock;
using SysTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time: used for timestamps, cron schedules and every interval computation.
  virtual SysTime Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  SysTime Now() const override { return SysClock::now(); }
};

// A clock that only moves when a test moves it.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(SysTime start = SysTime(std::chrono::seconds(1'700'000'000)))
      : now_(start.time_since_epoch().count()) {}
  SysTime Now() const override { return SysTime(SysTime::duration(now_.load())); }
  void Advance(SysTime::duration d) { now_.fetch_add(d.count()); }
  void Set(SysTime t) { now_.store(t.time_since_epoch().count()); }

 private:
  std::atomic<SysTime::duration::rep> now_;
};

}  // namespace hdm
