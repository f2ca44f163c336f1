#include "health/scheduler_loop.h"

#include <pthread.h>

#include <algorithm>

namespace hdm {

SchedulerLoop::SchedulerLoop(const Clock& clock, Scheduler& scheduler, Heartbeat heartbeat,
                             std::chrono::milliseconds max_wait)
    : clock_(clock), scheduler_(scheduler), heartbeat_(std::move(heartbeat)), max_wait_(max_wait) {}

SchedulerLoop::~SchedulerLoop() { Stop(); }

void SchedulerLoop::Start() {
  last_beat_.store(clock_.Mono().time_since_epoch().count());
  thread_ = std::thread([this] { Run(); });
}

void SchedulerLoop::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void SchedulerLoop::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SchedulerLoop::Run() {
  pthread_setname_np(pthread_self(), "hdm-scheduler");
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    const MonoTime next = scheduler_.Tick();
    const MonoTime now = clock_.Mono();
    last_beat_.store(now.time_since_epoch().count());
    if (heartbeat_) heartbeat_(now);
    lock.lock();
    if (stop_) break;
    if (woken_) {
      woken_ = false;
      continue;
    }
    // Both `next` and `now` are on the monotonic clock, and so is the wait (wait_for uses the
    // steady clock): a step of the wall clock changes nothing here.
    auto wait = std::clamp<MonoTime::duration>(next - now, MonoTime::duration::zero(), max_wait_);
    cv_.wait_for(lock, wait, [this] { return stop_ || woken_; });
    woken_ = false;
  }
}

}  // namespace hdm
