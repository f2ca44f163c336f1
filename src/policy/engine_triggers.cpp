// The inputs of PolicyEngine: health answers, discoveries, table profiles, the outage pause
// and schedules. Each turns condition edges into Candidates for the next Evaluate().
#include <algorithm>
#include <cstdio>
#include <utility>

#include "common/saturating_time.h"
#include "common/time_format.h"
#include "health/selection.h"
#include "policy/engine.h"
#include "policy/trigger_text.h"

namespace hdm::policy {
namespace {

// Both thresholds that the policy gives must hold (`after_failures` and/or `for`).
bool ThresholdsMet(const WhenConfig& w, int64_t answers, SysTime::duration held) {
  if (w.after_failures && answers < *w.after_failures) return false;
  if (w.for_duration && held < *w.for_duration) return false;
  return true;
}

// A failed check's metric code that says the API itself is out of reach: no answer came
// (connection error, timeout) or the API failed (5xx).
bool UnreachableCode(const std::string& code) {
  return code == "connection_error" || code == "timeout" || (code.size() == 3 && code[0] == '5');
}

}  // namespace

void PolicyEngine::NoteApiAnswer(SysTime at) {
  if (!api_answered_at_ || *api_answered_at_ < at) api_answered_at_ = at;
}

void PolicyEngine::NoteApiFailure(SysTime at, std::string what) {
  if (!api_failed_at_ || *api_failed_at_ <= at) {
    api_failed_at_ = at;
    api_failure_ = std::move(what);
  }
  if (!api_failing_since_ || (api_answered_at_ && *api_failing_since_ <= *api_answered_at_)) {
    api_failing_since_ = at;
  }
}

std::optional<std::string> PolicyEngine::ApiUnreachable(SysTime now) const {
  // The latest request failed, and none got an answer for a whole interval: one connection whose
  // checks fail while the others answer is not an unreachable API.
  if (!api_failed_at_) return std::nullopt;
  if (api_answered_at_ && (*api_answered_at_ >= *api_failed_at_ ||
                           now - *api_answered_at_ < config_->scheduler.interval)) {
    return std::nullopt;
  }
  std::string why = "the API is unreachable: the monitor's requests fail";
  if (api_failing_since_) why += " since " + FormatRfc3339(*api_failing_since_);
  why += api_answered_at_ ? ", no answer since " + FormatRfc3339(*api_answered_at_)
                          : ", no answer yet";
  return why + " (last: " + api_failure_ + ")";
}

void PolicyEngine::OnCheck(const CheckEvent& event) {
  const ConnectionState& s = event.state;
  if (event.answered) {
    NoteApiAnswer(event.at);
  } else if (UnreachableCode(s.last_check_error_code)) {
    const std::string who = s.info.name.empty() ? s.info.id : s.info.name;
    NoteApiFailure(event.at, "check of " + who + ": " + s.last_check_error);
  }
  // A failed check is no answer: the API being unreachable says nothing about the connection.
  if (!event.answered || !s.healthy) return;
  known_[s.info.id] = s.info;
  answers_.Put(s.info.id, *s.healthy, event.at);
  UpdatePause(event.at);
  for (const PolicyConfig& p : config_->policies) {
    if (!SelectorMatches(p.match, s.info)) continue;
    switch (p.when.event) {
      case EventKind::kUnhealthy:
      case EventKind::kRecovered:
        OnHealthAnswer(p, s, event.at);
        break;
      case EventKind::kLatencyAbove:
        OnLatencyAnswer(p, s, event.at);
        break;
      default:
        break;
    }
  }
}

void PolicyEngine::OnHealthAnswer(const PolicyConfig& p, const ConnectionState& s, SysTime at) {
  const PolicyKey key{.policy = p.name, .target = TargetKey::Of(s.info.id, std::nullopt)};
  if (!*s.healthy) {
    auto [it, fresh] = state_.episodes.try_emplace(key);
    Episode& ep = it->second;
    if (fresh) ep = Episode{.since = at, .overlapped_pause = paused_};
    ep.answers += 1;
    ep.last = std::max(ep.last, at);
    if (p.when.event == EventKind::kUnhealthy && !ep.fired &&
        ThresholdsMet(p.when, ep.answers, ep.last - ep.since)) {
      ep.fired = true;
      pending_.push_back(Candidate{.policy = p.name,
                                   .connection_id = s.info.id,
                                   .trigger = UnhealthyText(ep.answers, ep.last - ep.since),
                                   .overlapped_pause = ep.overlapped_pause});
    }
    return;
  }
  auto it = state_.episodes.find(key);
  if (it == state_.episodes.end()) return;
  const Episode ep = it->second;
  state_.episodes.erase(it);
  if (p.when.event == EventKind::kRecovered && ThresholdsMet(p.when, ep.answers, at - ep.since)) {
    pending_.push_back(Candidate{.policy = p.name,
                                 .connection_id = s.info.id,
                                 .trigger = RecoveredText(ep.answers, at - ep.since),
                                 .overlapped_pause = ep.overlapped_pause});
  }
}

void PolicyEngine::OnLatencyAnswer(const PolicyConfig& p, const ConnectionState& s, SysTime at) {
  const PolicyKey key{.policy = p.name, .target = TargetKey::Of(s.info.id, std::nullopt)};
  const Millis threshold = p.when.threshold.value_or(Millis{0});
  const bool above = s.latency_seconds && *s.latency_seconds * 1000.0 > threshold.count();
  if (!above) {
    state_.episodes.erase(key);
    return;
  }
  auto [it, fresh] = state_.episodes.try_emplace(key);
  Episode& ep = it->second;
  if (fresh) ep = Episode{.since = at, .overlapped_pause = paused_};
  ep.answers += 1;
  ep.last = std::max(ep.last, at);
  if (!ep.fired && ep.last - ep.since >= p.when.for_duration.value_or(Millis{0})) {
    ep.fired = true;
    pending_.push_back(Candidate{
        .policy = p.name,
        .connection_id = s.info.id,
        .trigger = LatencyText(threshold, ep.last - ep.since, ep.answers, *s.latency_seconds),
        .overlapped_pause = ep.overlapped_pause});
  }
}

void PolicyEngine::UpdatePause(SysTime now) {
  const SafetyConfig& safety = config_->safety;
  const auto [recent, unhealthy] = answers_.CountSince(now - 2 * config_->scheduler.interval);
  const bool paused = recent >= safety.pause_min_connections &&
                      static_cast<double>(unhealthy) >
                          safety.pause_when_unhealthy_fraction_above * static_cast<double>(recent);
  if (paused) {
    char percent[32];
    std::snprintf(percent, sizeof percent, "%.3g%%",
                  safety.pause_when_unhealthy_fraction_above * 100.0);
    pause_detail_ = "outage pause: " + std::to_string(unhealthy) + " of " + std::to_string(recent) +
                    " recent answers unhealthy (more than " + percent + ")";
  }
  if (paused && !paused_) {
    // Every health episode in progress overlaps this pause; table episodes are not about health.
    for (auto& [key, ep] : state_.episodes) {
      if (!key.target.IsTable()) ep.overlapped_pause = true;
    }
  }
  paused_ = paused;
}

void PolicyEngine::OnDiscovery(const std::vector<ConnectionState>& monitored, SysTime now) {
  discovered_ = true;
  std::map<std::string, hotdata::ConnectionInfo> previous = std::exchange(known_, {});
  for (const ConnectionState& c : monitored) known_[c.info.id] = c.info;
  // Every connection with an answer is in known_ (OnCheck adds it), so this forgets them all.
  for (const auto& [id, info] : previous) {
    if (!known_.contains(id)) answers_.Remove(id);
  }
  auto gone = [&](const std::string& id) { return !known_.contains(id); };
  std::erase_if(state_.episodes, [&](const auto& e) { return gone(e.first.target.connection_id); });
  std::erase_if(state_.retries, [&](const auto& e) { return gone(e.first.target.connection_id); });
  std::erase_if(state_.table_counts, [&](const auto& e) { return gone(e.first); });
  UpdatePause(now);

  for (const ConnectionState& c : monitored) CompareTableCounts(c);
}

void PolicyEngine::OnConnectionDetails(const ConnectionState& c, SysTime /*now*/) {
  // A connection the last discovery did not list gets no baseline: it left, or a reload
  // unselected it (OnDiscovery drops its counts).
  if (discovered_ && !known_.contains(c.info.id)) return;
  CompareTableCounts(c);
}

void PolicyEngine::CompareTableCounts(const ConnectionState& c) {
  TableCounts& seen = state_.table_counts[c.info.id];
  std::string changes;
  auto compare = [&](const char* what, std::optional<int64_t>& before,
                     const std::optional<int64_t>& after) {
    if (!after) return;  // not known this time: keep what was said last
    if (before && *before != *after) {
      if (!changes.empty()) changes += ", ";
      changes +=
          std::string(what) + " " + std::to_string(*before) + " -> " + std::to_string(*after);
    }
    before = after;
  };
  compare("table_count", seen.table_count, c.table_count);
  compare("synced_table_count", seen.synced_table_count, c.synced_table_count);
  if (changes.empty()) return;
  for (const PolicyConfig& p : config_->policies) {
    if (p.when.event != EventKind::kTablesChanged || !SelectorMatches(p.match, c.info)) continue;
    pending_.push_back(Candidate{
        .policy = p.name, .connection_id = c.info.id, .trigger = "tables changed: " + changes});
  }
}

void PolicyEngine::OnTableProfile(const std::string& connection_id, const TableRef& table,
                                  std::optional<SysTime> synced_at, SysTime now) {
  auto conn = known_.find(connection_id);
  if (conn == known_.end() || !synced_at) return;
  const hotdata::ConnectionInfo& info = conn->second;
  const bool watched =
      std::any_of(config_->tables.begin(), config_->tables.end(), [&](const TableWatch& w) {
        return (w.connection == info.id || w.connection == info.name) && w.table == table;
      });
  if (!watched) return;
  const SysTime::duration age = now - *synced_at;
  for (const PolicyConfig& p : config_->policies) {
    if (p.when.event != EventKind::kTableStale || !SelectorMatches(p.match, info)) continue;
    const PolicyKey key{.policy = p.name, .target = TargetKey::Of(connection_id, table)};
    const Millis max_age = p.when.max_age.value_or(Millis::max());
    if (age <= max_age) {
      state_.episodes.erase(key);  // fresh again: the next staleness is a new episode
      continue;
    }
    auto [it, fresh] = state_.episodes.try_emplace(key);
    Episode& ep = it->second;
    if (fresh) ep = Episode{.since = now};
    ep.answers += 1;
    ep.last = now;
    if (ep.fired) continue;
    ep.fired = true;
    pending_.push_back(Candidate{.policy = p.name,
                                 .connection_id = connection_id,
                                 .tables = {table},
                                 .trigger = StaleText(table, age, max_age)});
  }
}

SysTime PolicyEngine::FirstSchedulePoint(const PolicyConfig& p, SysTime now) const {
  auto last = state_.schedule_last_fire.find(p.name);
  if (p.when.every) {
    if (last == state_.schedule_last_fire.end()) return SaturatingAdd(now, *p.when.every);
    return NextSchedulePoint(p, last->second, now);
  }
  if (!p.when.cron) return SysTime::max();
  SysTime from = now;
  if (last != state_.schedule_last_fire.end()) from = std::max(from, last->second);
  return p.when.cron->NextAfter(from);
}

SysTime PolicyEngine::NextSchedulePoint(const PolicyConfig& p, SysTime point, SysTime now) const {
  if (p.when.every) {
    // The next point of the grid through `point` that lies after now: no catching up.
    const SysTime::duration period = *p.when.every;
    SysTime next = SaturatingAdd(point, *p.when.every);
    if (next <= now) next += ((now - next) / period + 1) * period;
    return next;
  }
  if (!p.when.cron) return SysTime::max();
  return p.when.cron->NextAfter(std::max(point, now));
}

void PolicyEngine::FireSchedules(SysTime now, std::vector<Candidate>& out) {
  for (const PolicyConfig& p : config_->policies) {
    if (p.when.event != EventKind::kSchedule) continue;
    auto [it, fresh] = schedule_next_.try_emplace(p.name);
    if (fresh) it->second = FirstSchedulePoint(p, now);
    // Before the first discovery there is nothing to act on: wait for it rather than skip.
    if (now < it->second || !discovered_) continue;
    const SysTime point = it->second;
    state_.schedule_last_fire[p.name] = point;
    it->second = NextSchedulePoint(p, point, now);
    const std::string trigger = ScheduleText(p.when, point);
    for (const auto& [id, info] : known_) {
      if (SelectorMatches(p.match, info)) {
        out.push_back(Candidate{.policy = p.name, .connection_id = id, .trigger = trigger});
      }
    }
  }
}

}  // namespace hdm::policy
