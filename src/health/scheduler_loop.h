// SchedulerLoop: the scheduler's own thread ("hdm-scheduler"). It calls Scheduler::Tick(),
// then waits until the time Tick() named, a Wake(), or Stop(). The wait is capped (one second by
// default) so the heartbeat (systemd's watchdog, /healthz) shows a live loop even when nothing is
// due. Every time here is on the monotonic clock (Clock::Mono()): a step of the wall clock
// neither stops the heartbeat nor makes the loop look stalled.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "health/scheduler.h"

namespace hdm {

class SchedulerLoop {
 public:
  // Called on the loop thread after every tick, with the monotonic time of the beat.
  using Heartbeat = std::function<void(MonoTime)>;

  // `max_wait` caps each wait, so the heartbeat runs at least that often.
  SchedulerLoop(const Clock& clock, Scheduler& scheduler, Heartbeat heartbeat = {},
                std::chrono::milliseconds max_wait = std::chrono::seconds(1));
  ~SchedulerLoop();  // Stop()s and joins
  SchedulerLoop(const SchedulerLoop&) = delete;
  SchedulerLoop& operator=(const SchedulerLoop&) = delete;

  void Start();
  void Wake();  // e.g. after a reload: tick now
  void Stop();

  // When the loop last went round, monotonic clock (for /healthz's stall check).
  MonoTime LastBeat() const { return MonoTime(MonoTime::duration(last_beat_.load())); }

 private:
  void Run();

  const Clock& clock_;
  Scheduler& scheduler_;
  Heartbeat heartbeat_;
  const std::chrono::milliseconds max_wait_;
  std::atomic<MonoTime::duration::rep> last_beat_{0};
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  bool stop_ = false;
  bool woken_ = false;
};

}  // namespace hdm
