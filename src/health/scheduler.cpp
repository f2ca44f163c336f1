#include "health/scheduler.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "common/saturating_time.h"

namespace hdm {
namespace {

// API call deadlines are the HTTP client's, on the real steady clock (not the Clock's Mono(),
// which a test's FakeClock moves by hand).
using std::chrono::steady_clock;

// The first `concurrency` checks of a round start over this window, not at one instant.
Millis RampWindow(const SchedulerConfig& c) {
  return std::min<Millis>(c.interval / 20, Millis(1000));
}

}  // namespace

Scheduler::Scheduler(const Clock& clock, Executor& executor, SchedulerConfig config)
    : clock_(clock), executor_(executor), config_(std::move(config)) {
  next_discovery_ = clock_.Mono();
}

void Scheduler::SetCheckListener(CheckListener listener) { listener_ = std::move(listener); }

void Scheduler::SetWakeup(std::function<void()> wakeup) { wakeup_ = std::move(wakeup); }

MonoTime Scheduler::Tick() {
  std::vector<ApiTask> tasks;
  MonoTime next;
  {
    std::lock_guard lock(mu_);
    const Instant now = Read();
    if (!discovery_in_flight_ && now.mono >= next_discovery_) StartDiscoveryLocked(tasks);
    if (discovered_ && now.mono >= next_round_) StartRoundLocked(now);
    DispatchLocked(now, tasks);

    next = discovery_in_flight_ ? MonoTime::max() : next_discovery_;
    if (discovered_) next = std::min(next, next_round_);
    const int c = config_.concurrency;
    if (!health_queue_.empty() && in_flight_ < c && round_dispatched_ < static_cast<size_t>(c)) {
      const auto step = RampWindow(config_) / c;
      auto it = rounds_.find(current_round_);
      if (it != rounds_.end()) {
        next = std::min(next, it->second.start + step * static_cast<int64_t>(round_dispatched_));
      }
    }
  }
  // Not PostAll(): Tick's caller already waits for `next`, so no wake-up is needed.
  for (auto& t : tasks) executor_.Post(std::move(t));
  return next;
}

void Scheduler::StartDiscoveryLocked(std::vector<ApiTask>& out) {
  discovery_in_flight_ = true;
  const auto deadline = steady_clock::now() + std::max(config_.interval, Millis(1000));
  out.push_back([this, deadline](hotdata::HotdataApi& api) {
    OnList(api.ListConnections({.deadline = deadline}));
  });
}

void Scheduler::StartRoundLocked(const Instant& now) {
  bool overrun = false;
  for (const auto& [id, round] : rounds_) {
    if (round.remaining > 0) overrun = true;
  }
  if (overrun) {
    ++stats_.rounds_overrun;
    spdlog::warn(
        "health round overran its interval of {}: connections still queued or in "
        "flight are not queued again",
        FormatDuration(config_.interval));
  }
  ++current_round_;
  round_dispatched_ = 0;
  Round round{.start = now.mono};
  for (auto& [id, e] : connections_) {
    if (e.health_pending) continue;
    if (e.not_before && *e.not_before > now.mono) continue;
    e.health_pending = true;
    health_queue_.push_back({id, e.generation, current_round_});
    ++round.remaining;
  }
  if (round.remaining == 0) {
    stats_.last_round_end = now.wall;
    stats_.last_round_duration_seconds = 0;
    ++stats_.rounds_completed;
  } else {
    rounds_[current_round_] = round;
  }
  // A late round (the loop was held up) is one round, and the next comes an interval after it.
  next_round_ = SaturatingAdd(next_round_, config_.interval);
  if (next_round_ <= now.mono) next_round_ = SaturatingAdd(now.mono, config_.interval);
}

void Scheduler::DispatchLocked(const Instant& now, std::vector<ApiTask>& out) {
  const int c = config_.concurrency;
  const auto step = RampWindow(config_) / c;
  auto round_it = rounds_.find(current_round_);
  ramp_waiting_ = false;
  while (in_flight_ < c) {
    if (!health_queue_.empty()) {
      const QueuedCheck& front = health_queue_.front();
      if (front.round == current_round_ && round_it != rounds_.end() &&
          round_dispatched_ < static_cast<size_t>(c) &&
          now.mono < round_it->second.start + step * static_cast<int64_t>(round_dispatched_)) {
        ramp_waiting_ = true;  // ramping up: the next slot opens later
        break;
      }
      QueuedCheck check = std::move(health_queue_.front());
      health_queue_.pop_front();
      auto it = connections_.find(check.id);
      if (it == connections_.end() || it->second.generation != check.generation) {
        FinishCheckLocked(check.round, now);  // the connection left the fleet
        continue;
      }
      if (check.round == current_round_) ++round_dispatched_;
      ++in_flight_;
      const auto deadline = steady_clock::now() + config_.interval;
      out.push_back([this, check = std::move(check), deadline](hotdata::HotdataApi& api) {
        const auto t0 = steady_clock::now();
        auto result = api.CheckHealth(check.id, {.deadline = deadline});
        const double seconds = std::chrono::duration<double>(steady_clock::now() - t0).count();
        OnHealth(check, std::move(result), seconds);
      });
      continue;
    }
    if (!details_queue_.empty() || !profile_queue_.empty()) {
      if (details_queue_.empty()) {
        std::string key = std::move(profile_queue_.front());
        profile_queue_.pop_front();
        auto it = tables_.find(key);
        if (it == tables_.end()) {
          profile_pending_.erase(key);  // no longer watched
          continue;
        }
        ++in_flight_;
        const auto deadline = steady_clock::now() + config_.interval;
        out.push_back([this, key, id = it->second.connection_id, schema = it->second.schema,
                       table = it->second.table, deadline](hotdata::HotdataApi& api) {
          OnProfile(key, api.GetTableProfile(id, schema, table, {.deadline = deadline}));
        });
        continue;
      }
      auto [id, generation] = std::move(details_queue_.front());
      details_queue_.pop_front();
      auto it = connections_.find(id);
      if (it == connections_.end() || it->second.generation != generation) continue;
      ++in_flight_;
      const auto deadline = steady_clock::now() + config_.interval;
      out.push_back([this, id, generation, deadline](hotdata::HotdataApi& api) {
        OnDetails(id, generation, api.GetConnection(id, {.deadline = deadline}));
      });
      continue;
    }
    break;
  }
}

void Scheduler::FinishCheckLocked(uint64_t round, const Instant& now) {
  auto it = rounds_.find(round);
  if (it == rounds_.end()) return;
  if (--it->second.remaining > 0) return;
  stats_.last_round_end = now.wall;
  stats_.last_round_duration_seconds =
      std::chrono::duration<double>(now.mono - it->second.start).count();
  ++stats_.rounds_completed;
  rounds_.erase(it);
}

void Scheduler::PostAll(std::vector<ApiTask>& tasks) {
  for (auto& t : tasks) executor_.Post(std::move(t));
  tasks.clear();
  bool wake;
  {
    std::lock_guard lock(mu_);
    wake = ramp_waiting_;
  }
  if (wake && wakeup_) wakeup_();
}

void Scheduler::Reconfigure(SchedulerConfig config) {
  std::lock_guard lock(mu_);
  const MonoTime now = clock_.Mono();
  const bool sooner = config.interval < config_.interval;
  config_ = std::move(config);
  if (sooner && discovered_) {
    next_round_ = std::min(next_round_, SaturatingAdd(now, config_.interval));
  }
  next_discovery_ = std::min(next_discovery_, SaturatingAdd(now, config_.discovery_interval));
  if (discovered_) {
    ApplyListLocked(last_list_);
    ResolveTablesLocked();
  }
}

FleetSnapshot Scheduler::Snapshot() const {
  std::lock_guard lock(mu_);
  FleetSnapshot snap = stats_;
  snap.taken = clock_.Now();
  snap.discovered = discovered_;
  snap.check_interval_seconds = std::chrono::duration<double>(config_.interval).count();
  snap.discovery_interval_seconds =
      std::chrono::duration<double>(config_.discovery_interval).count();
  snap.shard_index = config_.shard.index;
  snap.shard_count = config_.shard.count;
  snap.tables.reserve(tables_.size());
  for (const auto& [key, t] : tables_) snap.tables.push_back(t);
  snap.connections.reserve(connections_.size());
  for (const auto& [id, e] : connections_) snap.connections.push_back(e.state);
  return snap;
}

bool Scheduler::Ready() const {
  std::lock_guard lock(mu_);
  return discovered_;
}

size_t Scheduler::QueuedProfileFetches() const {
  std::lock_guard lock(mu_);
  return profile_queue_.size();
}

uint64_t Scheduler::RoundsCompleted() const {
  std::lock_guard lock(mu_);
  return stats_.rounds_completed;
}

void Scheduler::RecordPurge(const std::string& connection_id, SysTime when) {
  std::lock_guard lock(mu_);
  auto it = connections_.find(connection_id);
  if (it != connections_.end()) it->second.state.last_purge = when;
}

void Scheduler::SeedLastPurges(std::map<std::string, SysTime> last_purges) {
  std::lock_guard lock(mu_);
  seeded_last_purges_ = std::move(last_purges);
}

}  // namespace hdm
