// PolicyService: the policy engine at work inside the daemon. It owns the engine (behind one
// mutex), the audit log, the runner with its own API client, and the state file; its thread
// ("hdm-policy") evaluates, performs purges one at a time and saves the state.
//
// Wiring: construct after the config is loaded, with an API client of its own; make the
// scheduler's check listener call OnCheck(); pass `fleet` so that discoveries reach the engine;
// Start() after the scheduler; Reconfigure() after each successful reload; Stop() at shutdown
// (it cancels its own client, so it does not wait on the worker pool). Serve ActionsJson() at
// /api/v1/actions, StatusJson() in /api/v1/status, Counters() and OutagePaused() in /metrics.
//
// The state file is shared with the operator command line (`connections purge`): every save is a
// read-merge-write under state::StateLock, and each pass re-reads the file when its stamp
// changed, so that the operator's cooldowns, budget spending and audit entries are respected and
// kept (docs/operator-cli.md).
//
// Besides its engine's state, the service keeps its audit trail in the state file (the newest
// audit_capacity entries, the purges in flight, the last purge of each connection: see
// audit_section.h) and restores it at start, so that /api/v1/actions, and through LastPurges()
// the scheduler's last purge times, come back after a restart.
//
// Thread-safe: inputs come from the scheduler's executor threads, readers from the HTTP server.
// No lock is held while a purge is in flight.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "config/config.h"
#include "health/connection_state.h"
#include "health/scheduler.h"
#include "hotdata/api.h"
#include "policy/audit_log.h"
#include "policy/engine.h"
#include "policy/runner.h"
#include "state/state_lock.h"

namespace hdm::policy {

struct PolicyServiceOptions {
  // The state file (config.state_file); empty: nothing persists.
  std::string state_path;
  // Polled by the thread: every pass until the first discovery (meanwhile each check answer
  // wakes it), then every kFleetPollInterval. A snapshot with a new last_discovery or another
  // set of connections (a reload's filters) is handed to the engine as a discovery. Empty: call
  // OnDiscovery() yourself.
  std::function<FleetSnapshot()> fleet;
  // Called after each successful purge, e.g. Scheduler::RecordPurge (for
  // hotdata_connection_last_purge_timestamp_seconds). Called on the policy thread, no lock held.
  // The times of before a restart come from LastPurges().
  std::function<void(const std::string& connection_id, SysTime when)> on_purged;
  // Called after each failed save of the state file (hotdata_monitor_state_save_errors_total),
  // on the thread that saved, no lock held.
  std::function<void()> on_save_error;
  size_t audit_capacity = AuditLog::kDefaultCapacity;
};

class PolicyService {
 public:
  static constexpr auto kFleetPollInterval = std::chrono::seconds(5);
  // Episode state is saved at most this often when no decision was taken; every batch of
  // decisions is saved at once.
  static constexpr auto kSaveInterval = std::chrono::seconds(60);
  // How long a save waits for the operator command line to finish its update of the state file.
  static constexpr auto kStateLockTimeout = std::chrono::seconds(5);
  // A change of the wall clock against the monotonic one of more than this between two readings
  // (at least one a second) is a step; slewing (NTP's adjtime, at most 0.5 ms/s) is not.
  static constexpr auto kClockStepThreshold = std::chrono::seconds(1);

  // Loads the state file. A file that is not valid state (or of a version that can be neither
  // read nor migrated) is logged, set aside and replaced at once by an empty state that holds
  // every purge (state_lost: PolicyEngine, StateLost(); audited as hold_started); LoadProblem()
  // tells; it never stops the daemon. A file that cannot be read
  // (EIO, EMFILE, ...) is logged and left in place: each pass reads it again, and no save
  // overwrites it until one has read it (so no purge is sent meanwhile: its write-ahead fails).
  // `api` is used by this service's thread only.
  //
  // A save that fails (the state directory turned read-only or full) is counted
  // (on_save_error), logged once until its reason changes or it clears, and monitoring goes
  // on; but a purge whose write-ahead save failed is not sent: it is audited as failed ("not
  // sent: ...") and retried once, one interval later, like a transient API error. A purge that
  // is not on disk before it is sent could be repeated inside its cooldown after a crash.
  PolicyService(const Clock& clock, std::shared_ptr<const Config> config,
                std::unique_ptr<hotdata::HotdataApi> api, PolicyServiceOptions options);
  ~PolicyService();  // Stop()s
  PolicyService(const PolicyService&) = delete;
  PolicyService& operator=(const PolicyService&) = delete;

  void Start();
  // Cancels the purge in flight (it comes back as transient, so it is retried after a restart),
  // joins the thread and saves the state.
  void Stop();

  // Inputs; cheap, never block on a purge.
  // The event's wall time is taken from its monotonic one (CheckEvent::mono_at), so that an
  // answer stamped just before a step of the wall clock lands on the engine's side of it.
  void OnCheck(const CheckEvent& event);
  void OnDiscovery(const std::vector<ConnectionState>& monitored, SysTime now);
  // A get_connection answer (Scheduler::SetDetailsListener): its table counts reach the engine
  // at once instead of at the next fleet poll (tables_changed).
  void OnConnectionDetails(const ConnectionState& connection, SysTime now);
  void OnTableProfile(const std::string& connection_id, const TableRef& table,
                      std::optional<SysTime> synced_at, SysTime now);
  // The alerts of a webhook notification (POST /api/v1/alerts): episodes start or end, the
  // ignored ones are audited, and the thread is woken to decide. Refused (nothing recorded) until
  // the engine has had a discovery, since the connections the alerts name are not known yet.
  std::expected<AlertsReport, std::string> OnAlerts(const std::vector<webhook::Alert>& alerts);
  void Reconfigure(std::shared_ptr<const Config> config);

  // One pass of the thread: poll the fleet, evaluate, perform, save when due. Tests call it
  // directly instead of Start().
  void RunOnce();
  // Saves the state now; returns why it failed.
  std::expected<void, std::string> Save();

  // Readers.
  std::string ActionsJson() const { return audit_.ToJson(); }
  AuditCounters Counters() const { return audit_.Counters(); }
  bool OutagePaused() const { return paused_.load(); }
  // True while every purge is held because the state file could not be used
  // (hotdata_policy_state_lost).
  bool StateLost() const { return state_lost_.load(); }
  // The engine's budget now (PolicyEngine::BudgetAt), for hotdata_policy_budget_*.
  PolicyEngine::Budget Budget() const;
  nlohmann::json StatusJson(const std::string& connection_id) const;
  const AuditLog& audit() const { return audit_; }
  // The last successful purge of each connection, from the state file and since the start;
  // connections the fleet no longer has are dropped. Seed the scheduler with it at start.
  std::map<std::string, SysTime> LastPurges() const;
  // Why the state file could not be used at start, if it could not.
  const std::optional<std::string>& LoadProblem() const { return load_problem_; }

 private:
  void Run();
  void Wake();
  void PollFleet();
  void NotePause();  // with mu_ held
  // Logs and audits the end of the state_lost hold, and updates StateLost(). With mu_ held.
  void NoteStateLost(SysTime now);
  // Save(), counting every failure and logging it once until it changes or clears.
  std::expected<void, std::string> SaveAndReport();
  // The state file as another process (the operator command line) left it: its cooldowns and
  // budget spending merged into the engine, its unseen manual actions added to the audit log.
  void MergeFileIfChanged();                    // with save_mu_ held inside; not mu_
  void Absorb(const nlohmann::json& sections);  // with save_mu_ held; takes mu_
  // Reads both clocks and tells the engine of a step of the wall clock; returns the wall time.
  // With mu_ held.
  SysTime SyncClockLocked();
  std::vector<AuditEntry> AuditOldestFirst() const;

  const Clock& clock_;
  const std::unique_ptr<hotdata::HotdataApi> api_;
  const PolicyServiceOptions options_;
  AuditLog audit_;
  PolicyRunner runner_;  // used by the policy thread only
  std::optional<std::string> load_problem_;
  std::atomic<bool> paused_{false};
  std::atomic<bool> state_lost_{false};

  mutable std::mutex mu_;
  // Guarded by mu_.
  std::unique_ptr<PolicyEngine> engine_;
  bool dirty_ = false;          // inputs since the last save
  MonoTime last_save_{};        // monotonic: a step of the wall clock moves no save
  MonoTime last_fleet_poll_{};  // monotonic
  // The wall clock minus the monotonic one at the last reading: a change of more than
  // kClockStepThreshold between two readings is a step of the wall clock, which the engine is
  // told of (PolicyEngine::OnWallClockStep).
  std::optional<std::chrono::nanoseconds> wall_offset_;
  bool clock_stepped_ = false;  // since the last save
  bool save_soon_ = false;      // at the next pass: alert episodes started or ended
  std::optional<SysTime> last_discovery_seen_;
  std::vector<std::string> last_ids_seen_;  // of that snapshot, sorted as the scheduler sorts
  // Entries (outcome kUnknown) of the purges of the batch being performed that have no outcome
  // yet, in the batch's order: saved with the audit log, so that they survive a crash.
  std::deque<AuditEntry> in_flight_;
  std::map<std::string, SysTime> last_purge_;  // by connection id

  std::mutex save_mu_;  // one reader-merger or writer of the state file at a time
  // Guarded by save_mu_.
  std::string last_save_error_;
  uint64_t failed_saves_ = 0;                   // in a row, since the last successful save
  std::optional<state::FileStamp> last_stamp_;  // of the file as we last read or wrote it
  std::string last_read_error_;  // why the file last could not be read; empty once it could
  std::set<std::string> imported_manual_ids_;  // ManualAction ids already in audit_

  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  // Guarded by wake_mu_.
  bool stop_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace hdm::policy
