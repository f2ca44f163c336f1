// Scheduler: discovery and health rounds, and the per-connection state they produce.
//
// Time comes from a Clock and every API call runs on an Executor, so the whole logic runs
// deterministically in tests (FakeClock + ManualExecutor). Tick() does what is due now and says
// when it next has something to do; a loop thread (SchedulerLoop) calls it. Results arrive on
// executor threads and immediately dispatch the next queued check, so a slow check only ever
// holds one of the `concurrency` slots.
//
// Two clocks (common/clock.h): everything that is due or measured runs on the monotonic clock
// (Clock::Mono()): rounds, discovery and its retry after a failure, the ramp, Retry-After, round
// durations. A step of the wall clock (NTP after a VM resumed) neither stops rounds nor fires
// them early. The wall clock (Clock::Now()) only stamps what people read: last_check,
// last_answer, unhealthy_since, last_discovery, last_round_end, the snapshot's `taken`, and the
// wall-clock copy of a Retry-After (ConnectionState::not_before) that the status API shows.
//
// Rounds: every `interval` each monitored connection that has no check queued or in flight
// (and no Retry-After pending) is queued once; a round still running when the next is due is
// counted as an overrun and its connections are not queued twice. A round that is late (the
// loop was held up) starts once and the next is an interval after it: never a burst. The first
// `concurrency` checks of a round are spread over a short ramp (min(interval/20, 1s)) so that a
// round never fires all its requests at one instant. Discovery failures keep the last known
// set and are retried after min(discovery_interval, interval).
//
// Thread-safe: all state is guarded by one mutex; callbacks run without it held.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "config/config.h"
#include "health/connection_state.h"
#include "health/executor.h"

namespace hdm {

// What a finished health check did, for the policy engine and the logs.
struct CheckEvent {
  ConnectionState state;  // after the result was applied
  bool answered = false;  // a valid answer (false: the check failed)
  SysTime at{};           // when it finished, wall clock: timestamps, cron, what is persisted
  MonoTime mono_at{};     // the same instant on the monotonic clock: for intervals and windows
};

class Scheduler {
 public:
  using CheckListener = std::function<void(const CheckEvent&)>;
  using ProfileListener = std::function<void(const TableState&, SysTime now)>;
  using DetailsListener = std::function<void(const ConnectionState&, SysTime now)>;

  Scheduler(const Clock& clock, Executor& executor, SchedulerConfig config);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts what is due at clock.Mono(); returns when (monotonic clock) something is next due.
  MonoTime Tick();

  // Applies a new scheduler config (reload): filters are re-applied to the last list at once;
  // a shorter interval takes effect now. Connections that stay keep their state.
  void Reconfigure(SchedulerConfig config);

  // Called after every health result, on the executor thread that got it. Set before Tick().
  void SetCheckListener(CheckListener listener);
  // The `tables:` list whose profiles are fetched after each discovery (get_table_profile, at
  // lowest priority). Takes effect at the next discovery.
  void SetTables(std::vector<TableWatch> tables);
  // Called after every valid table profile, on the executor thread. Set before Tick().
  void SetProfileListener(ProfileListener listener);
  // Called after every successful get_connection (asked after each discovery) with the
  // connection's state, its table counts updated, on the executor thread without locks: the
  // policy engine compares them as they arrive (tables_changed). Set before Tick().
  void SetDetailsListener(DetailsListener listener);
  // Called (without locks) when a result made something due earlier than the last Tick() said,
  // e.g. the first round's ramp after the first discovery. Set before Tick().
  void SetWakeup(std::function<void()> wakeup);

  FleetSnapshot Snapshot() const;
  bool Ready() const;  // the first discovery succeeded
  uint64_t RoundsCompleted() const;
  // Table profile fetches queued and not yet started: at most one per watched table however
  // often discoveries and reloads ask for them (for tests and the status).
  size_t QueuedProfileFetches() const;
  void RecordPurge(const std::string& connection_id, SysTime when);
  // Last purges from before a restart (PolicyService::LastPurges()), by connection id: each
  // becomes its connection's last_purge when a discovery adds it; those the first successful
  // discovery does not list are dropped. Call before the first Tick().
  void SeedLastPurges(std::map<std::string, SysTime> last_purges);

 private:
  struct Entry {
    ConnectionState state;
    // Retry-After past the interval: not asked before this (state.not_before is its wall copy).
    std::optional<MonoTime> not_before;
    uint64_t generation = 0;      // tells a re-added connection from its queued predecessor
    bool health_pending = false;  // queued or in flight
    bool details_pending = false;
  };
  struct QueuedCheck {
    std::string id;
    uint64_t generation;
    uint64_t round;  // 0: outside any round (a newly discovered connection)
  };
  struct Round {
    MonoTime start;
    size_t remaining = 0;
  };
  // One reading of both clocks.
  struct Instant {
    SysTime wall;   // for timestamps
    MonoTime mono;  // for what is due and what is measured
  };
  Instant Read() const { return {clock_.Now(), clock_.Mono()}; }

  void StartDiscoveryLocked(std::vector<ApiTask>& out);
  void StartRoundLocked(const Instant& now);
  void DispatchLocked(const Instant& now, std::vector<ApiTask>& out);
  void ApplyListLocked(const std::vector<hotdata::ConnectionInfo>& list);
  void FinishCheckLocked(uint64_t round, const Instant& now);
  void OnList(hotdata::ApiResult<std::vector<hotdata::ConnectionInfo>> result);
  void OnDetails(const std::string& id, uint64_t generation,
                 hotdata::ApiResult<hotdata::ConnectionDetails> result);
  void OnHealth(const QueuedCheck& check, hotdata::ApiResult<hotdata::HealthResponse> result,
                double seconds);
  // Posts `tasks`, then wakes the loop when queued checks wait for a ramp slot.
  void PostAll(std::vector<ApiTask>& tasks);
  void ResolveTablesLocked();
  void OnProfile(const std::string& key, hotdata::ApiResult<hotdata::TableProfile> result);

  const Clock& clock_;
  Executor& executor_;
  CheckListener listener_;            // set once before the first Tick
  ProfileListener profile_listener_;  // set once before the first Tick
  DetailsListener details_listener_;  // set once before the first Tick
  std::function<void()> wakeup_;      // set once before the first Tick

  mutable std::mutex mu_;
  // Guarded by mu_.
  SchedulerConfig config_;
  std::vector<hotdata::ConnectionInfo> last_list_;  // unfiltered, for Reconfigure
  std::map<std::string, Entry> connections_;        // by id
  std::deque<QueuedCheck> health_queue_;
  std::deque<std::pair<std::string, uint64_t>> details_queue_;  // id, generation
  std::vector<TableWatch> table_watches_;
  std::map<std::string, TableState> tables_;  // by "id\0schema\0table"
  std::deque<std::string> profile_queue_;     // keys of tables_
  std::set<std::string> profile_pending_;     // keys queued or in flight: never queued twice
  std::map<uint64_t, Round> rounds_;          // unfinished rounds
  // SeedLastPurges(), by id, until the first discovery.
  std::map<std::string, SysTime> seeded_last_purges_;
  uint64_t next_generation_ = 1;
  uint64_t current_round_ = 0;
  size_t round_dispatched_ = 0;  // checks of the current round started so far (for the ramp)
  int in_flight_ = 0;
  bool ramp_waiting_ = false;  // the last dispatch stopped at a ramp slot
  bool discovery_in_flight_ = false;
  bool discovered_ = false;
  // Monotonic clock.
  MonoTime next_discovery_{};
  MonoTime next_round_ = MonoTime::max();
  FleetSnapshot stats_;  // the round/discovery counters; `connections` unused
};

}  // namespace hdm
