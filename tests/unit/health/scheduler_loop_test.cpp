// SchedulerLoop with a FakeClock: the loop thread runs for real, time moves only when the test
// moves it. Conditions are awaited with deadlines, never with sleeps.
#include "health/scheduler_loop.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "health/executor.h"
#include "in_memory_api.h"

namespace hdm {
namespace {

using namespace std::chrono_literals;

// Polls `cond` until it holds or 15 s pass; returns its last value.
bool WaitFor(const std::function<bool()>& cond) {
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return cond();
}

class SchedulerLoopTest : public ::testing::Test {
 protected:
  SchedulerConfig Config() {
    SchedulerConfig c;
    c.interval = 1s;
    c.discovery_interval = 2s;
    c.concurrency = 2;
    return c;
  }
  size_t Beats() {
    std::lock_guard lock(mu_);
    return beats_.size();
  }

  FakeClock clock_;
  testing::InMemoryApi api_;
  ManualExecutor exec_{api_};
  std::mutex mu_;
  std::vector<int64_t> beats_;  // the time each heartbeat was given, in clock ticks
};

// Issue #13 item 1: the heartbeat feeds systemd's watchdog and /healthz. Its time must not step
// back with the wall clock, or "half a watchdog period since the last ping" stays false for an
// hour and /healthz's stall check lies.
TEST_F(SchedulerLoopTest, HeartbeatsKeepComingAndTheirTimeNeverStepsBackWithTheWallClock) {
  Scheduler s(clock_, exec_, Config());
  SchedulerLoop loop(
      clock_, s,
      [this](auto now) {
        std::lock_guard lock(mu_);
        beats_.push_back(now.time_since_epoch().count());
      },
      5ms);
  loop.Start();
  ASSERT_TRUE(WaitFor([&] { return Beats() >= 2; }));
  const auto before = loop.LastBeat();
  clock_.StepWall(-1h);
  clock_.Advance(1s);
  const size_t n = Beats();
  EXPECT_TRUE(WaitFor([&] { return Beats() >= n + 3; }));
  clock_.StepWall(2h);
  const size_t m = Beats();
  EXPECT_TRUE(WaitFor([&] { return Beats() >= m + 3; }));
  loop.Stop();
  // The loop went round 1 s (of the monotonic clock) after `before`, whatever the wall did.
  EXPECT_EQ(loop.LastBeat() - before, std::chrono::seconds(1));
  // On the monotonic clock, which /healthz's stall check (Daemon::Alive) compares it with.
  EXPECT_EQ(loop.LastBeat(), clock_.Mono());
  std::lock_guard lock(mu_);
  for (size_t i = 1; i < beats_.size(); ++i) {
    EXPECT_GE(beats_[i], beats_[i - 1]) << "beat " << i << " stepped back";
  }
  EXPECT_EQ(beats_.back() - beats_.front(),
            std::chrono::duration_cast<SysTime::duration>(1s).count())
      << "only the monotonic second passed";
}

}  // namespace
}  // namespace hdm
