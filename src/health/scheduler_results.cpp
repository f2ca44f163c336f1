// The scheduler's handling of API answers: discovery lists, connection details, health checks.
#include <algorithm>
#include <set>

#include <spdlog/spdlog.h>

#include "common/saturating_time.h"
#include "common/time_format.h"
#include "health/scheduler.h"
#include "health/selection.h"

namespace hdm {

void Scheduler::OnList(hotdata::ApiResult<std::vector<hotdata::ConnectionInfo>> result) {
  std::vector<ApiTask> tasks;
  {
    std::lock_guard lock(mu_);
    const Instant now = Read();
    discovery_in_flight_ = false;
    ++stats_.discoveries;
    if (!result) {
      ++stats_.discoveries_failed;
      stats_.last_discovery_error = result.error().ToString();
      // Keep the last known set; try again sooner than a full discovery interval.
      next_discovery_ =
          SaturatingAdd(now.mono, std::min(config_.discovery_interval, config_.interval));
      spdlog::warn("discovery failed, keeping the {} known connections: {}", connections_.size(),
                   stats_.last_discovery_error);
    } else {
      stats_.last_discovery = now.wall;
      stats_.last_discovery_error.clear();
      next_discovery_ = SaturatingAdd(now.mono, config_.discovery_interval);
      last_list_ = std::move(*result);
      ApplyListLocked(last_list_);
      seeded_last_purges_.clear();  // the connections this list lacks are gone
      ResolveTablesLocked();
      if (!discovered_) {
        discovered_ = true;
        next_round_ = now.mono;  // the first round starts right after the first discovery
      }
      if (now.mono >= next_round_) StartRoundLocked(now);
      DispatchLocked(now, tasks);
    }
  }
  PostAll(tasks);
}

void Scheduler::ApplyListLocked(const std::vector<hotdata::ConnectionInfo>& list) {
  std::set<std::string> seen;
  size_t added = 0;
  for (const auto& info : list) {
    if (info.id.empty() || !IsSelected(config_, info)) continue;
    if (!seen.insert(info.id).second) continue;  // a duplicate id in one list: first wins
    auto [it, inserted] = connections_.try_emplace(info.id);
    Entry& e = it->second;
    if (inserted) {
      ++added;
      e.generation = next_generation_++;
      if (auto seed = seeded_last_purges_.extract(info.id)) e.state.last_purge = seed.mapped();
      if (discovered_) {
        // Checked at once rather than a whole interval later.
        e.health_pending = true;
        health_queue_.push_back({info.id, e.generation, 0});
      }
    }
    e.state.info = info;
    if (!e.details_pending) {
      e.details_pending = true;
      details_queue_.emplace_back(it->first, e.generation);
    }
  }
  size_t removed = 0;
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (seen.contains(it->first)) {
      ++it;
    } else {
      it = connections_.erase(it);
      ++removed;
    }
  }
  if (added || removed) {
    spdlog::info("discovery: {} connections monitored ({} added, {} removed)", connections_.size(),
                 added, removed);
  }
}

void Scheduler::OnDetails(const std::string& id, uint64_t generation,
                          hotdata::ApiResult<hotdata::ConnectionDetails> result) {
  std::vector<ApiTask> tasks;
  std::optional<ConnectionState> answered;
  SysTime wall{};
  {
    std::lock_guard lock(mu_);
    --in_flight_;
    const auto now = Read();
    wall = now.wall;
    auto it = connections_.find(id);
    if (it != connections_.end() && it->second.generation == generation) {
      Entry& e = it->second;
      e.details_pending = false;
      if (result) {
        e.state.table_count = result->table_count;
        e.state.synced_table_count = result->synced_table_count;
        if (details_listener_) answered = e.state;
      } else {
        spdlog::debug("get_connection {} failed: {}", id, result.error().ToString());
      }
    }
    DispatchLocked(now, tasks);
  }
  PostAll(tasks);
  if (answered) details_listener_(*answered, wall);
}

void Scheduler::OnHealth(const QueuedCheck& check,
                         hotdata::ApiResult<hotdata::HealthResponse> result, double seconds) {
  std::vector<ApiTask> tasks;
  CheckEvent event;
  bool notify = false;
  {
    std::lock_guard lock(mu_);
    const Instant now = Read();
    --in_flight_;
    auto it = connections_.find(check.id);
    if (it != connections_.end() && it->second.generation == check.generation) {
      Entry& e = it->second;
      ConnectionState& s = e.state;
      e.health_pending = false;
      s.checked = true;
      s.check_duration_seconds = seconds;
      s.last_check = now.wall;
      if (result) {
        const bool was_healthy = s.healthy.value_or(true);
        s.check_success = true;
        s.last_check_error.clear();
        s.last_check_error_code.clear();
        e.not_before.reset();
        s.not_before.reset();
        s.healthy = result->healthy;
        s.latency_seconds = static_cast<double>(result->latency_ms) / 1000.0;
        s.last_answer = now.wall;
        s.last_answer_error = result->error.value_or("");
        if (result->healthy) {
          s.consecutive_failures = 0;
          s.unhealthy_since.reset();
          if (!was_healthy)
            spdlog::info("connection {} ({}) is healthy again", s.info.name, s.info.id);
        } else {
          ++s.consecutive_failures;
          if (!s.unhealthy_since) s.unhealthy_since = now.wall;
          if (was_healthy) {
            spdlog::warn("connection {} ({}) is unhealthy: {}", s.info.name, s.info.id,
                         s.last_answer_error.empty() ? "no error text" : s.last_answer_error);
          }
        }
      } else {
        const hotdata::ApiError& err = result.error();
        s.check_success = false;
        s.last_check_error = err.ToString();
        s.last_check_error_code = err.MetricCode();
        if (err.retry_after.count() > 0) {
          e.not_before = SaturatingAdd(now.mono, err.retry_after);
          s.not_before = SaturatingAdd(now.wall, err.retry_after);  // shown, not waited on
        }
        spdlog::debug("health check of {} ({}) failed: {}", s.info.name, s.info.id,
                      s.last_check_error);
      }
      event = {.state = s, .answered = result.has_value(), .at = now.wall, .mono_at = now.mono};
      notify = static_cast<bool>(listener_);
    }
    FinishCheckLocked(check.round, now);
    DispatchLocked(now, tasks);
  }
  if (notify) listener_(event);
  PostAll(tasks);
}

void Scheduler::SetTables(std::vector<TableWatch> tables) {
  std::lock_guard lock(mu_);
  table_watches_ = std::move(tables);
}

void Scheduler::SetProfileListener(ProfileListener listener) {
  profile_listener_ = std::move(listener);
}

void Scheduler::SetDetailsListener(DetailsListener listener) {
  details_listener_ = std::move(listener);
}

void Scheduler::ResolveTablesLocked() {
  std::map<std::string, TableState> next;
  for (const TableWatch& w : table_watches_) {
    // `connection` names a connection by id, or else by name.
    const Entry* found = nullptr;
    if (auto it = connections_.find(w.connection); it != connections_.end()) {
      found = &it->second;
    } else {
      for (const auto& [id, e] : connections_) {
        if (e.state.info.name == w.connection) {
          found = &e;
          break;
        }
      }
    }
    if (found == nullptr) continue;  // not monitored (now): no series, no fetch
    const std::string& id = found->state.info.id;
    std::string key = id + '\0' + w.table.schema + '\0' + w.table.table;
    auto old = tables_.find(key);
    TableState t = old != tables_.end() ? old->second : TableState{};
    t.connection_id = id;
    t.connection_name = found->state.info.name;
    t.schema = w.table.schema;
    t.table = w.table.table;
    // One fetch per table queued or in flight: a burst of discoveries or reloads adds none.
    if (profile_pending_.insert(key).second) profile_queue_.push_back(key);
    next[key] = std::move(t);
  }
  tables_ = std::move(next);
}

void Scheduler::OnProfile(const std::string& key,
                          hotdata::ApiResult<hotdata::TableProfile> result) {
  std::vector<ApiTask> tasks;
  std::optional<TableState> valid;
  Instant now;
  {
    std::lock_guard lock(mu_);
    now = Read();
    --in_flight_;
    profile_pending_.erase(key);
    auto it = tables_.find(key);
    if (it != tables_.end()) {
      TableState& t = it->second;
      t.fetched = true;
      t.last_fetch = now.wall;
      if (result) {
        t.ok = true;
        t.last_error.clear();
        t.row_count = result->row_count;
        t.synced_at.reset();
        if (result->synced_at) {
          t.synced_at = ParseRfc3339(*result->synced_at);
          if (!t.synced_at) {
            spdlog::debug("table {}.{} of {}: unreadable synced_at \"{}\"", t.schema, t.table,
                          t.connection_name, *result->synced_at);
          }
        }
        valid = t;
      } else {
        t.ok = false;
        t.last_error = result.error().ToString();
        spdlog::debug("get_table_profile {}.{} of {} failed: {}", t.schema, t.table,
                      t.connection_name, t.last_error);
      }
    }
    DispatchLocked(now, tasks);
  }
  if (valid && profile_listener_) profile_listener_(*valid, now.wall);
  PostAll(tasks);
}

}  // namespace hdm
