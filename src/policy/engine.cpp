#include "policy/engine.h"

#include <algorithm>

#include "common/saturating_time.h"
#include "common/time_format.h"
#include "config/maintenance.h"
#include "policy/fingerprint.h"
#include "policy/trigger_text.h"

namespace hdm::policy {

// A candidate expanded to one target; candidates for the same (policy, target) in one
// Evaluate() are merged, so that one evaluation never decides twice on one target.
struct PolicyEngine::Item {
  const PolicyConfig* policy = nullptr;
  PolicyKey key;
  std::string connection_name;
  std::string trigger;
  bool overlapped_pause = false;
  bool retry = false;                    // every candidate merged into it was a retry
  std::optional<PendingRetry> retry_of;  // one of them was: kept while the API is unreachable
};

PolicyEngine::PolicyEngine(std::shared_ptr<const Config> config, PolicyState state)
    : state_(std::move(state)) {
  ApplyConfig(std::move(config));
}

void PolicyEngine::Reconfigure(std::shared_ptr<const Config> config) {
  ApplyConfig(std::move(config));
}

void PolicyEngine::ApplyConfig(std::shared_ptr<const Config> config) {
  config_ = std::move(config);
  policy_index_.clear();
  std::map<std::string, std::string> fingerprints;
  for (size_t i = 0; i < config_->policies.size(); ++i) {
    const PolicyConfig& p = config_->policies[i];
    policy_index_[p.name] = i;
    fingerprints[p.name] = PolicyFingerprint(p);
  }
  // A policy that changed (or is gone) starts afresh: its episodes were judged by other rules.
  auto changed = [&](const std::string& policy) {
    auto now_fp = fingerprints.find(policy);
    auto old_fp = state_.policy_fingerprints.find(policy);
    return now_fp == fingerprints.end() || old_fp == state_.policy_fingerprints.end() ||
           now_fp->second != old_fp->second;
  };
  std::erase_if(state_.episodes, [&](const auto& e) { return changed(e.first.policy); });
  std::erase_if(state_.retries, [&](const auto& e) { return changed(e.first.policy); });
  std::erase_if(state_.schedule_last_fire,
                [&](const auto& e) { return !fingerprints.contains(e.first); });
  std::erase_if(schedule_next_, [&](const auto& e) { return changed(e.first); });
  std::erase_if(pending_, [&](const Candidate& c) { return changed(c.policy); });
  // Alert episodes are facts about the alerts, not about the policy's rules: they stay while the
  // policy is an alert policy, so that a reload does not purge again on the next repeat.
  std::erase_if(state_.alert_episodes, [&](const auto& e) {
    auto it = policy_index_.find(e.first.policy);
    return it == policy_index_.end() ||
           config_->policies[it->second].when.event != EventKind::kAlert;
  });
  state_.policy_fingerprints = std::move(fingerprints);

  const std::string config_fp = ConfigFingerprint(*config_);
  if (state_.permanent_fingerprint != config_fp) {
    state_.permanent.clear();
    state_.permanent_fingerprint = config_fp;
  }
}

const PolicyConfig* PolicyEngine::FindPolicy(const std::string& name) const {
  auto it = policy_index_.find(name);
  return it == policy_index_.end() ? nullptr : &config_->policies[it->second];
}

std::string PolicyEngine::ConnectionName(const std::string& id) const {
  auto it = known_.find(id);
  return it == known_.end() ? std::string() : it->second.name;
}

void PolicyEngine::OnWallClockStep(SysTime::duration delta) {
  const auto by = std::chrono::duration_cast<Millis>(delta);
  auto shift = [&](SysTime& t) {
    if (t != SysTime::min() && t != SysTime::max() && t != SysTime{}) t = SaturatingAdd(t, by);
  };
  auto shift_opt = [&](std::optional<SysTime>& t) {
    if (t) shift(*t);
  };
  for (auto& [key, until] : state_.cooldown_until) shift(until);
  for (SysTime& spent : state_.budget_spends) shift(spent);
  for (auto& [target, mark] : state_.permanent) shift(mark.at);
  for (auto& [key, ep] : state_.episodes) {
    shift(ep.since);
    shift(ep.last);
  }
  for (auto& [policy, last] : state_.schedule_last_fire) shift(last);
  for (auto& [key, retry] : state_.retries) shift(retry.due);
  for (auto& [key, ep] : state_.alert_episodes) {  // starts_at is the sender's clock: it stays
    shift(ep.last_seen);
    if (ep.ended) shift(*ep.ended);
  }
  if (state_.state_lost) {
    shift(state_.state_lost->since);
    shift(state_.state_lost->file_time);
  }
  for (auto& [policy, next] : schedule_next_) {
    const PolicyConfig* p = FindPolicy(policy);
    if (p == nullptr || !p->when.cron) shift(next);  // `every`: a period from the last firing
  }
  answers_.Shift(delta);
  shift_opt(api_answered_at_);
  shift_opt(api_failed_at_);
  shift_opt(api_failing_since_);
}

std::optional<SysTime> PolicyEngine::NextDue() const {
  if (!evaluated_) return SysTime{};
  std::optional<SysTime> next;
  auto consider = [&](SysTime t) {
    if (!next || t < *next) next = t;
  };
  for (const auto& [policy, t] : schedule_next_) consider(t);
  for (const auto& [key, retry] : state_.retries) consider(retry.due);
  for (const auto& [key, ep] : state_.alert_episodes) {
    if (ep.fired || ep.ended) continue;
    const PolicyConfig* p = FindPolicy(key.policy);
    if (p != nullptr)
      consider(SaturatingAdd(ep.starts_at, p->when.for_duration.value_or(Millis{0})));
  }
  return next;
}

int64_t PolicyEngine::BudgetSpent(SysTime now) const {
  return std::count_if(state_.budget_spends.begin(), state_.budget_spends.end(),
                       [&](SysTime t) { return t > now - kBudgetWindow; });
}

void PolicyEngine::Prune(SysTime now) {
  auto& spends = state_.budget_spends;
  spends.erase(spends.begin(), std::upper_bound(spends.begin(), spends.end(), now - kBudgetWindow));
  std::erase_if(state_.cooldown_until, [&](const auto& e) { return e.second <= now; });
  PruneAlerts(now);
}

std::vector<Decision> PolicyEngine::Evaluate(SysTime now) {
  evaluated_ = true;
  Prune(now);
  LiftStateLostIfAged(now);
  UpdatePause(now);
  std::vector<Candidate> candidates;
  if (discovered_) {
    // Retries first: they have waited longest.
    for (auto it = state_.retries.begin(); it != state_.retries.end();) {
      if (it->second.due > now) {
        ++it;
        continue;
      }
      const PolicyKey& key = it->first;
      if (known_.contains(key.target.connection_id) && FindPolicy(key.policy) != nullptr) {
        candidates.push_back(
            Candidate{.policy = key.policy,
                      .connection_id = key.target.connection_id,
                      .trigger = "retry after a transient failure; " + it->second.trigger,
                      .retry_target = key.target,
                      .retry_connection_name = it->second.connection_name,
                      .retry_trigger = it->second.trigger});
      }
      it = state_.retries.erase(it);
    }
  }
  for (Candidate& c : pending_) candidates.push_back(std::move(c));
  pending_.clear();
  FireSchedules(now, candidates);
  FireAlerts(now, candidates);

  std::vector<Decision> decisions;
  for (const Item& item : Expand(std::move(candidates))) {
    Decision d = Judge(item, now);
    const bool held =
        d.verdict == Verdict::kSuppressed && d.reason == SuppressReason::kApiUnreachable;
    if (held && item.retry_of) {
      // Kept for when the API answers again; a retry alone is reported the first time only.
      state_.retries[item.key] =
          PendingRetry{.due = SaturatingAdd(now, config_->scheduler.interval),
                       .connection_name = item.retry_of->connection_name,
                       .trigger = item.retry_of->trigger};
      if (!held_retries_.insert(item.key).second && item.retry) continue;
    } else {
      held_retries_.erase(item.key);
    }
    decisions.push_back(std::move(d));
  }
  std::erase_if(held_retries_, [&](const PolicyKey& k) { return !state_.retries.contains(k); });
  return decisions;
}

std::vector<PolicyEngine::Item> PolicyEngine::Expand(std::vector<Candidate> candidates) const {
  std::vector<Item> items;
  std::map<PolicyKey, size_t> index;
  auto add = [&](const PolicyConfig* p, const Candidate& c, TargetKey target) {
    PolicyKey key{.policy = p->name, .target = std::move(target)};
    auto [it, fresh] = index.try_emplace(key, items.size());
    if (fresh) {
      std::string name = c.retry_target ? c.retry_connection_name : ConnectionName(c.connection_id);
      items.push_back(Item{.policy = p,
                           .key = std::move(key),
                           .connection_name = std::move(name),
                           .trigger = c.trigger,
                           .overlapped_pause = c.overlapped_pause,
                           .retry = c.retry_target.has_value()});
    }
    Item& item = items[it->second];
    if (c.retry_target && !item.retry_of) {
      item.retry_of =
          PendingRetry{.connection_name = c.retry_connection_name, .trigger = c.retry_trigger};
    }
    if (fresh) return;
    if (item.trigger.find(c.trigger) == std::string::npos) item.trigger += "; " + c.trigger;
    item.overlapped_pause = item.overlapped_pause || c.overlapped_pause;
    item.retry = item.retry && c.retry_target.has_value();
  };
  for (const Candidate& c : candidates) {
    const PolicyConfig* p = FindPolicy(c.policy);
    if (p == nullptr) continue;
    if (c.retry_target) {
      add(p, c, *c.retry_target);
    } else if (p->action.purge == PurgeKind::kConnection) {
      add(p, c, TargetKey::Of(c.connection_id, std::nullopt));
    } else {
      const auto& tables = p->action.tables.empty() ? c.tables : p->action.tables;
      for (const TableRef& t : tables) add(p, c, TargetKey::Of(c.connection_id, t));
    }
  }
  return items;
}

Decision PolicyEngine::Judge(const Item& item, SysTime now) {
  const PolicyConfig& p = *item.policy;
  Decision d{.id = next_id_++,
             .policy = p.name,
             .action = p.action.purge,
             .target = PurgeTarget{.connection_id = item.key.target.connection_id,
                                   .connection_name = item.connection_name,
                                   .table = item.key.target.Table()},
             .trigger = item.trigger,
             .retry = item.retry};
  if (auto held = Suppression(item.key, item.overlapped_pause, now)) {
    d.verdict = Verdict::kSuppressed;
    d.reason = held->first;
    d.detail = std::move(held->second);
    return d;
  }
  if (p.dry_run || config_->safety.dry_run) {
    // A dry run keeps the cadence a real run would have, and costs nothing.
    d.verdict = Verdict::kDryRun;
    state_.cooldown_until[item.key] = SaturatingAdd(now, p.cooldown);
    return d;
  }
  d.verdict = Verdict::kPerform;
  state_.budget_spends.push_back(now);
  InFlight flight{.key = item.key};
  if (auto it = state_.cooldown_until.find(item.key); it != state_.cooldown_until.end()) {
    flight.previous_cooldown = it->second;
  }
  // Held in cooldown while in flight, so that nothing decides on it twice meanwhile.
  state_.cooldown_until[item.key] = SaturatingAdd(now, p.cooldown);
  state_.retries.erase(item.key);
  in_flight_[d.id] = std::move(flight);
  return d;
}

std::optional<std::pair<SuppressReason, std::string>> PolicyEngine::Suppression(
    const PolicyKey& key, bool overlapped_pause, SysTime now) const {
  const SafetyConfig& safety = config_->safety;
  if (auto held = StateLostHeld()) return held;
  if (auto why = ApiUnreachable(now)) return std::pair{SuppressReason::kApiUnreachable, *why};
  for (const MaintenanceWindow& w : safety.maintenance) {
    if (const auto end = MaintenanceWindowEnd(w, now)) {
      return std::pair{SuppressReason::kMaintenance,
                       "maintenance window \"" + w.cron_text + "\" until " + FormatRfc3339(*end)};
    }
  }
  if (auto it = state_.permanent.find(key.target); it != state_.permanent.end()) {
    return std::pair{SuppressReason::kPermanentError,
                     "marked permanent at " + FormatRfc3339(it->second.at) + " by policy " +
                         it->second.policy + ": " + it->second.message};
  }
  if (auto it = state_.cooldown_until.find(key);
      it != state_.cooldown_until.end() && it->second > now) {
    return std::pair{SuppressReason::kCooldown, "cooldown until " + FormatRfc3339(it->second)};
  }
  for (const auto& [id, flight] : in_flight_) {
    if (flight.key == key) {
      return std::pair{SuppressReason::kCooldown, "a purge of this target is in flight"};
    }
  }
  const int64_t spent = BudgetSpent(now);
  if (spent >= safety.max_purges_per_hour) {
    return std::pair{SuppressReason::kBudget, "budget spent: " + std::to_string(spent) +
                                                  " purges in the last hour (max " +
                                                  std::to_string(safety.max_purges_per_hour) + ")"};
  }
  if (paused_) return std::pair{SuppressReason::kOutagePause, pause_detail_};
  if (overlapped_pause) {
    return std::pair{SuppressReason::kOutagePause,
                     "the episode overlapped an outage pause (many connections unhealthy at once)"};
  }
  return std::nullopt;
}

void PolicyEngine::OnOutcome(const Decision& d, const Outcome& outcome, SysTime now) {
  if (d.verdict != Verdict::kPerform) return;
  const PolicyKey key{.policy = d.policy,
                      .target = TargetKey::Of(d.target.connection_id, d.target.table)};
  std::optional<SysTime> previous;
  if (auto it = in_flight_.find(d.id); it != in_flight_.end()) {
    previous = it->second.previous_cooldown;
    in_flight_.erase(it);
  }
  auto restore_cooldown = [&] {
    if (previous && *previous > now) {
      state_.cooldown_until[key] = *previous;
    } else {
      state_.cooldown_until.erase(key);
    }
  };
  const PolicyConfig* p = FindPolicy(d.policy);
  if (outcome.unreachable) {
    NoteApiFailure(now, d.target.Describe() + " purge: " + outcome.message);
  } else if (outcome.kind != OutcomeKind::kTransientError) {
    NoteApiAnswer(now);  // the API answered, whatever it said
  }
  switch (outcome.kind) {
    case OutcomeKind::kUnknown:
      // It may have purged: the cooldown that Judge() started stands, and no retry.
      break;
    case OutcomeKind::kSuccess:
    case OutcomeKind::kFailed:
      // kFailed too: whether it purged is unknown, and repeating it would not help.
      state_.cooldown_until[key] = SaturatingAdd(now, p != nullptr ? p->cooldown : Millis{0});
      break;
    case OutcomeKind::kPermanentError:
      restore_cooldown();
      state_.permanent[key.target] =
          PermanentMark{.policy = d.policy, .at = now, .message = outcome.message};
      break;
    case OutcomeKind::kTransientError:
      restore_cooldown();
      if (!d.retry && p != nullptr) {
        state_.retries[key] = PendingRetry{.due = SaturatingAdd(now, config_->scheduler.interval),
                                           .connection_name = d.target.connection_name,
                                           .trigger = d.trigger};
      }
      break;
  }
}

}  // namespace hdm::policy
