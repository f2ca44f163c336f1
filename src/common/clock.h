// Clock: the one place the daemon reads time from, so tests can advance time instead of
// sleeping. Implementations are thread-safe.
//
// Two clocks, for two jobs (docs/reliability.md):
//   Now()  the wall clock: timestamps people read, cron schedules, and what is persisted
//          (cooldowns, budget spending, last purges), since only it means the same after a
//          restart. NTP, a resumed VM or an operator can step it back or forward at any time.
//   Mono() the monotonic clock: everything that waits or measures an interval (rounds,
//          discovery, retries, backoff, the outage pause window, the watchdog). It never steps.
#pragma once

#include <atomic>
#include <chrono>

namespace hdm {

using SysClock = std::chrono::system_clock;
using SysTime = std::chrono::system_clock::time_point;
using MonoClock = std::chrono::steady_clock;
using MonoTime = std::chrono::steady_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time.
  virtual SysTime Now() const = 0;
  // Monotonic time: only differences between two readings mean anything.
  virtual MonoTime Mono() const = 0;
};

class SystemClock final : public Clock {
 public:
  SysTime Now() const override { return SysClock::now(); }
  MonoTime Mono() const override { return MonoClock::now(); }
};

// A clock that only moves when a test moves it. Advance() moves both clocks; StepWall() moves
// the wall clock alone, as NTP stepping it would.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(SysTime start = SysTime(std::chrono::seconds(1'700'000'000)))
      : now_(start.time_since_epoch().count()) {}
  SysTime Now() const override { return SysTime(SysTime::duration(now_.load())); }
  MonoTime Mono() const override { return MonoTime(MonoTime::duration(mono_.load())); }
  void Advance(std::chrono::nanoseconds d) {
    now_.fetch_add(std::chrono::duration_cast<SysTime::duration>(d).count());
    mono_.fetch_add(std::chrono::duration_cast<MonoTime::duration>(d).count());
  }
  void StepWall(std::chrono::nanoseconds d) {
    now_.fetch_add(std::chrono::duration_cast<SysTime::duration>(d).count());
  }
  // Sets the wall clock (a step); the monotonic clock does not move.
  void Set(SysTime t) { now_.store(t.time_since_epoch().count()); }

 private:
  std::atomic<SysTime::duration::rep> now_;
  // Starts far from zero, so that a MonoTime{} (the epoch) in the code is always long past.
  std::atomic<MonoTime::duration::rep> mono_{
      std::chrono::duration_cast<MonoTime::duration>(std::chrono::hours(24 * 365)).count()};
};

}  // namespace hdm
