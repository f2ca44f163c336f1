// PolicyEngine: decides which purges the configured policies call for, and which of them the
// safeties hold back. Start here for anything about policies.
//
// The engine is pure: state and time in, decisions out. It has no threads, does no I/O and
// never reads a clock: every input carries the time it happened (`now`). The same inputs in the
// same order give the same decisions, which is what the tests rely on. It performs nothing: a
// PolicyRunner performs the decisions and the outcomes come back through OnOutcome().
//
// Conditions fire once per episode, on the edge (like a Prometheus alert with `for:`):
//   unhealthy       an unhealthy run reached `after_failures` answers and/or lasted `for` (from
//                   its first to its latest unhealthy answer; both must hold when both are given)
//   recovered       a healthy answer ended an unhealthy run that met `after_failures` and/or
//                   `for` (first unhealthy answer to the healthy one)
//   latency_above   every answer of a run above `threshold`, from the first to the latest >= `for`
//   schedule        each cron point (UTC) or `every` period; `every` first fires one period after
//                   the engine first evaluates it. After a restart the next firing is the persisted
//                   last one plus the period (or the next grid point after now): nothing repeats,
//                   nothing is caught up
//   table_stale     a profile of a `tables:` table shows synced_at older than `max_age`; fresh
//                   again (a profile within max_age) ends the episode
//   tables_changed  table_count or synced_table_count differ from what the previous get_connection
//                   answer (OnConnectionDetails) or discovery said: once per change
//   alert           a firing alert (OnAlerts) of a name in `alertname`, with every label of
//                   `labels`, names a monitored connection (label connection_id, else connection,
//                   its name): once per alert episode (fingerprint and startsAt), when the alert
//                   has been firing for `for` since its startsAt (at once without `for`). A repeat
//                   of the notification decides nothing; `resolved` ends the episode (one not yet
//                   fired then never fires). An alert that names no monitored connection, one the
//                   policy's match leaves out, or a table purge without tables is ignored, once
//                   per episode (OnAlerts reports it). Episodes survive a restart and a change of
//                   the policy; they go with the policy, 1 day after they ended, or 7 days after
//                   their latest notification.
// Only valid health answers count: a failed check (CheckEvent::answered == false) neither opens,
// extends, ends nor fires anything.
//
// Before the safeties, api_unreachable holds every decision while the monitor's own requests to
// the API fail (a failed check with a connection error, a timeout or a 5xx, or a purge that
// failed so) and none got an answer for a whole scheduler interval. It spends no budget and
// starts no cooldown; a held retry is kept (reported once) and goes out when the API answers.
//
// Before both, state_lost holds every decision while the state holds a StateLostHold (the state
// file could not be used at a start): it lifts when an operator clears it (the clear comes in
// through MergeShared) or when the longest cooldown of the config and the budget's hour have
// passed since the unusable file's last modification. Dry-run policies are held too, like by
// every safety.
//
// Safeties, in this order; the first that holds suppresses the decision: maintenance window,
// permanent mark, per (policy, target) cooldown, the hourly budget, the outage pause (now, or at
// any moment of the episode: an episode that overlapped a pause never fires). A decision that
// passes is kPerform, or kDryRun under safety.dry_run or the policy's dry_run. A suppressed
// decision consumes its edge: it is reported once and not retried when the safety lifts.
//
// Effects of a decision: kDryRun starts the cooldown and spends no budget. kPerform spends budget
// at once (every purge request sent counts: a request that failed may still have purged) and
// holds the target in cooldown until OnOutcome(): success and kFailed start the cooldown from the
// outcome; kPermanentError marks the target (for every policy) until the config changes;
// kTransientError starts no cooldown and schedules one retry, one scheduler interval later,
// which passes every safety again and spends budget again; kUnknown (cut off by shutdown after
// the request went out) keeps the cooldown taken at the decision and is not retried.
//
// Not thread-safe: one owner serialises every call (PolicyService does).
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "config/config.h"
#include "health/connection_state.h"
#include "health/scheduler.h"
#include "policy/decision.h"
#include "policy/policy_state.h"
#include "policy/recent_answers.h"
#include "webhook/payload.h"

namespace hdm::policy {

// One policy's state on one connection, for /api/v1/status.
struct PolicyStatus {
  std::string policy;
  bool dry_run = false;
  bool episode_open = false;  // a run of the condition is in progress (or a table is stale)
  bool episode_fired = false;
  std::optional<SysTime> episode_since;
  std::optional<SysTime> cooldown_until;  // the latest of the connection's targets, when ahead
  std::optional<std::string> permanent;   // why a target of this connection is marked
  std::optional<SysTime> retry_due;
};
// [{"policy": ..., "dry_run": ..., "episode": {...}|null, "cooldown_until": "...Z"|null, ...}]
nlohmann::json StatusToJson(const std::vector<PolicyStatus>& statuses);

// An alert that an alert policy took but cannot act on (AlertsReport::ignored), to be audited.
struct IgnoredAlert {
  std::string policy;
  PurgeKind action = PurgeKind::kConnection;
  PurgeTarget target;   // connection_id empty when no monitored connection was named
  std::string trigger;  // AlertText()
  std::string reason;   // "connection_id conn_gone is not a monitored connection"
};
// What one notification's alerts did (OnAlerts).
struct AlertsReport {
  int64_t started = 0;    // new episodes, fired or waiting for `for` (ignored ones included)
  int64_t repeated = 0;   // alerts of episodes known already (or older ones)
  int64_t ended = 0;      // episodes a resolved alert ended
  int64_t unmatched = 0;  // alerts that no alert policy takes (name or labels)
  std::vector<IgnoredAlert> ignored;
};

// Episodes of alert policies are kept at most this many (the oldest notifications dropped first).
inline constexpr size_t kMaxAlertEpisodes = 10'000;

class PolicyEngine {
 public:
  // `state` is what Export() gave before a restart (or empty). Permanent marks made under
  // another config, and episodes and retries of policies that changed, are dropped.
  PolicyEngine(std::shared_ptr<const Config> config, PolicyState state);

  // Applies a reloaded config. A policy whose match, when or action changed (or that is gone)
  // loses its episodes and pending retry; any change of the policies, the tables list or the
  // API target clears every permanent mark. Cooldowns and budget spending are kept.
  void Reconfigure(std::shared_ptr<const Config> config);

  // A finished health check (answered or not), at event.at. Call in the order checks finished.
  void OnCheck(const CheckEvent& event);
  // The monitored connections after a successful discovery (never with the empty set of a
  // scheduler that has not discovered yet). Connections not in it lose their episodes, answers
  // and retries; table counts are compared with the previous discovery's.
  void OnDiscovery(const std::vector<ConnectionState>& monitored, SysTime now);
  // A get_connection answer (the scheduler asks after each discovery): its table counts are
  // compared with the last ones known at once, so that a change between two discoveries the
  // owner polls is neither missed nor reported twice. Counts absent change nothing.
  void OnConnectionDetails(const ConnectionState& connection, SysTime now);
  // A table profile of a `tables:` entry. `synced_at` absent (never synced, or not reported)
  // leaves that table's episode as it is.
  void OnTableProfile(const std::string& connection_id, const TableRef& table,
                      std::optional<SysTime> synced_at, SysTime now);
  // The alerts of one webhook notification, received at `now` (see `alert` above). The connection
  // an alert names is looked up among those of the last discovery: call after one.
  AlertsReport OnAlerts(const std::vector<webhook::Alert>& alerts, SysTime now);
  // True once OnDiscovery() was called: alerts can be matched to connections.
  bool Discovered() const { return discovered_; }

  // The decisions due at `now`: what the inputs since the last call fired, due schedule points
  // and due retries, each judged by the safeties. Every kPerform decision must come back through
  // OnOutcome(); kDryRun and kSuppressed ones need not. Call after inputs and at least every few
  // seconds (see NextDue()).
  std::vector<Decision> Evaluate(SysTime now);
  // How performing a kPerform decision went, at `now`. Other verdicts are ignored.
  void OnOutcome(const Decision& decision, const Outcome& outcome, SysTime now);

  // The wall clock stepped by `delta` (its owner measures steps against the monotonic clock).
  // Every time the engine recorded moves with it, cooldowns and budget spending included, so
  // that each keeps its length in real time: a step back neither stops `for` episodes, `every`
  // schedules and retries for as long, nor a step forward ends every cooldown at once. Cron
  // points stay on the wall clock.
  void OnWallClockStep(SysTime::duration delta);

  // Adopts the cooldowns and budget spending another process recorded in the state file
  // (MergeShared in policy_state.h), so that its purges count here too, and an operator's clear
  // of the state_lost hold (reported by TakeStateLostEnd()).
  void MergeShared(const PolicyState& from);

  // Why every purge is held because the state file could not be used (state_lost), or nullopt.
  std::optional<std::string> StateLost() const;
  // When the state_lost hold lifts by itself under the current config: the unusable file's last
  // modification plus the longest cooldown or the budget's hour, whichever is longer.
  std::optional<SysTime> StateLostUntil() const;
  // How the state_lost hold ended since the last call ("cleared by an operator", "aged out: ..."),
  // for the log and the audit; nullopt when it did not.
  std::optional<std::string> TakeStateLostEnd();

  // What must survive a restart. Expired cooldowns and spending older than an hour are dropped
  // at each Evaluate().
  PolicyState Export() const { return state_; }
  // Every policy that matches the connection, or holds state for it, in config order.
  std::vector<PolicyStatus> StatusFor(const std::string& connection_id, SysTime now) const;
  // True while more than safety.pause_when_unhealthy_fraction_above of the recent answers are
  // unhealthy (hotdata_policy_outage_pause).
  bool OutagePaused() const { return paused_; }
  // True when a condition fired since the last Evaluate(): a decision is waiting to be taken.
  bool HasPending() const { return !pending_.empty(); }
  // Why the pause is on ("outage pause: 6 of 10 recent answers unhealthy (more than 50%)").
  const std::string& PauseDetail() const { return pause_detail_; }
  // Why purges are held for an unreachable API at `now`, or nullopt while it answers.
  std::optional<std::string> ApiUnreachable(SysTime now) const;
  // The global budget at `now`: safety.max_purges_per_hour, and the purges it still allows in
  // the sliding hour up to `now`, never negative (hotdata_policy_budget_limit, _remaining).
  struct Budget {
    int64_t limit = 0;
    int64_t remaining = 0;
  };
  Budget BudgetAt(SysTime now) const;
  // When Evaluate() next has something to do without new input: a schedule point or a retry.
  // SysTime{} (the epoch) before the first Evaluate(); nullopt when nothing is scheduled.
  std::optional<SysTime> NextDue() const;

 private:
  // Purges spent in the budget's sliding window up to `now` (the budget safety and BudgetAt).
  int64_t BudgetSpent(SysTime now) const;
  // A condition that fired, before it is expanded into targets and judged.
  struct Candidate {
    std::string policy;
    std::string connection_id;
    std::vector<TableRef> tables;  // the tables that triggered (table_stale)
    std::string trigger;
    bool overlapped_pause = false;
    std::optional<TargetKey> retry_target;  // set for the retry of a transient failure
    std::string retry_connection_name;
    std::string retry_trigger;  // the original decision's trigger
  };
  struct InFlight {
    PolicyKey key;
    std::optional<SysTime> previous_cooldown;  // restored when the purge did not happen
  };
  struct Item;  // a candidate expanded to one target (engine.cpp)

  void ApplyConfig(std::shared_ptr<const Config> config);
  const PolicyConfig* FindPolicy(const std::string& name) const;
  std::string ConnectionName(const std::string& id) const;

  // engine_triggers.cpp
  void OnHealthAnswer(const PolicyConfig& p, const ConnectionState& s, SysTime at);
  void OnLatencyAnswer(const PolicyConfig& p, const ConnectionState& s, SysTime at);
  void UpdatePause(SysTime now);
  void NoteApiAnswer(SysTime at);
  void NoteApiFailure(SysTime at, std::string what);
  void CompareTableCounts(const ConnectionState& c);
  void FireSchedules(SysTime now, std::vector<Candidate>& out);
  SysTime FirstSchedulePoint(const PolicyConfig& p, SysTime now) const;
  SysTime NextSchedulePoint(const PolicyConfig& p, SysTime point, SysTime now) const;

  // engine_alerts.cpp
  void OnAlert(const PolicyConfig& p, const webhook::Alert& alert, SysTime now,
               AlertsReport& report);
  // The connection `alert` names, or why it names none that is monitored.
  std::expected<const hotdata::ConnectionInfo*, std::string> AlertConnection(
      const webhook::Alert& alert) const;
  void FireAlerts(SysTime now, std::vector<Candidate>& out);
  void PruneAlerts(SysTime now);

  // engine_state_lost.cpp
  void LiftStateLostIfAged(SysTime now);
  std::optional<std::pair<SuppressReason, std::string>> StateLostHeld() const;

  // engine.cpp
  void Prune(SysTime now);
  std::vector<Item> Expand(std::vector<Candidate> candidates) const;
  Decision Judge(const Item& item, SysTime now);
  // The first safety that holds back a purge of `key` now, with its details.
  std::optional<std::pair<SuppressReason, std::string>> Suppression(const PolicyKey& key,
                                                                    bool overlapped_pause,
                                                                    SysTime now) const;

  std::shared_ptr<const Config> config_;
  std::map<std::string, size_t> policy_index_;  // name -> index in config_->policies
  PolicyState state_;

  // Not persisted: rebuilt from the first discovery and answers after a start.
  std::map<std::string, hotdata::ConnectionInfo> known_;  // monitored connections, by id
  bool discovered_ = false;
  RecentAnswers answers_;  // latest valid answer per connection, for the outage pause
  bool paused_ = false;
  std::string pause_detail_;
  std::vector<Candidate> pending_;                // fired since the last Evaluate()
  std::map<std::string, SysTime> schedule_next_;  // by policy; set at its first Evaluate()
  bool evaluated_ = false;
  std::map<uint64_t, InFlight> in_flight_;  // kPerform decisions awaiting OnOutcome()
  // What the monitor's own requests to the API saw (api_unreachable).
  std::optional<SysTime> api_answered_at_;    // the latest answer of any kind
  std::optional<SysTime> api_failed_at_;      // the latest connection error, timeout or 5xx
  std::optional<SysTime> api_failing_since_;  // the first such failure after that answer
  std::string api_failure_;                   // what failed last, for the audit
  std::set<PolicyKey> held_retries_;          // retries held for api_unreachable, reported once

  std::optional<std::string> state_lost_end_;  // how the hold ended, until TakeStateLostEnd()
  uint64_t next_id_ = 1;
};

}  // namespace hdm::policy
