#include "policy/policy_service.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "policy/audit_section.h"
#include "policy/manual_actions.h"
#include "policy/policy_state.h"
#include "state/state_file.h"
#include "state/state_lock.h"

namespace hdm::policy {
namespace {

constexpr const char* kStateSection = "policy";
constexpr auto kMaxWait = std::chrono::seconds(1);

// What the state file gives a starting service.
struct Loaded {
  PolicyState state;
  AuditSection audit;
  bool hold_began = false;  // the file could not be used: state.state_lost is a new hold
};

// The hold of every purge that a state file which could not be used calls for (its cooldowns and
// budget are lost): `file` is where it went, `modified` its last save when known.
StateLostHold HoldFor(SysTime now, const std::string& why, const std::string& file,
                      std::optional<SysTime> modified) {
  // Milliseconds, as the file keeps them: an operator's clear names the hold by its `since`.
  return StateLostHold{.since = FromUnixMs(ToUnixMs(now)),
                       // A time ahead of now is a clock's error: the hold lasts no longer for it.
                       .file_time = std::min(modified.value_or(now), now),
                       .file = file,
                       .why = why};
}

// Reads the engine's and the audit log's sections of the state file. Problems are reported,
// never fatal: an unusable file or policy section sets the file aside and holds every purge
// (state_lost), an unusable audit section is only skipped (the cooldowns in the file stay). A file
// that cannot be read stays: the service reads it again on each pass and saves nothing over it
// until it has (MergeFileIfChanged).
Loaded LoadState(const std::string& path, SysTime now, std::optional<std::string>& problem) {
  Loaded loaded;
  if (path.empty()) return loaded;
  std::string note;
  auto doc = state::Load(path, now, &note);
  if (!doc) {
    problem = doc.error().message;
    if (doc.error().unusable) {
      loaded.state.state_lost =
          HoldFor(now, doc.error().message, doc.error().set_aside_path, doc.error().modified);
      loaded.hold_began = true;
    }
    return loaded;
  }
  if (!note.empty()) spdlog::warn("state file: {}: {}", path, note);
  if (auto audit = AuditSectionFrom(*doc)) {
    loaded.audit = std::move(*audit);
  } else {
    spdlog::warn("state file: {}: {}; the audit entries of before the restart are lost", path,
                 audit.error());
  }
  auto it = doc->find(kStateSection);
  if (it == doc->end()) return loaded;
  auto decoded = PolicyStateFromJson(*it);
  if (decoded) {
    loaded.state = std::move(*decoded);
    return loaded;
  }
  const std::optional<SysTime> modified = state::ModifiedAt(path);
  auto moved = state::SetAside(path, now);
  problem = path + ": " + decoded.error() + "; " +
            (moved ? "set aside as " + *moved : "could not set it aside (" + moved.error() + ")") +
            ", starting from empty state";
  loaded.state.state_lost = HoldFor(now, *problem, moved ? *moved : std::string(), modified);
  loaded.hold_began = true;
  // The audit entries of before stay: they are no safety.
  return loaded;
}

}  // namespace

PolicyService::PolicyService(const Clock& clock, std::shared_ptr<const Config> config,
                             std::unique_ptr<hotdata::HotdataApi> api, PolicyServiceOptions options)
    : clock_(clock),
      api_(std::move(api)),
      options_(std::move(options)),
      audit_(options_.audit_capacity),
      runner_(*api_, audit_, clock_) {
  const SysTime now = clock_.Now();
  Loaded loaded = LoadState(options_.state_path, now, load_problem_);
  if (load_problem_) spdlog::error("state file: {}", *load_problem_);
  const bool hold_began = loaded.hold_began;
  engine_ = std::make_unique<PolicyEngine>(std::move(config), std::move(loaded.state));
  last_save_ = clock_.Mono();
  // The audit trail of before the restart: silently, it was logged then; but a purge that was
  // in flight when the daemon stopped is news (its outcome is unknown), so it is logged now.
  audit_.Restore(std::move(loaded.audit.entries));
  for (AuditEntry& entry : loaded.audit.in_flight) audit_.Add(std::move(entry));
  last_purge_ = std::move(loaded.audit.last_purge);
  imported_manual_ids_ = std::move(loaded.audit.manual_ids);
  MergeFileIfChanged();  // the operator's purges recorded in the file, into the audit log
  if (const auto held = engine_->StateLost()) {
    state_lost_ = true;
    if (hold_began) {
      spdlog::error("state file: holding every purge (state_lost): {}", *held);
      audit_.Add(StateLostEntry(AuditOutcome::kHoldStarted, *held, now));
      // Written at once: the file that held the cooldowns is gone from its place, and a restart
      // before the first save must find the hold, not an empty state.
      dirty_ = true;
      SaveAndReport();
    } else {
      spdlog::warn("state file: every purge is still held (state_lost): {}", *held);
    }
  }
}

PolicyService::~PolicyService() { Stop(); }

void PolicyService::Start() {
  thread_ = std::thread([this] { Run(); });
}

void PolicyService::Stop() {
  {
    std::lock_guard lock(wake_mu_);
    if (stop_) return;
    stop_ = true;
  }
  wake_cv_.notify_all();
  api_->Cancel();
  if (thread_.joinable()) thread_.join();
  SaveAndReport();
}

void PolicyService::Wake() {
  {
    std::lock_guard lock(wake_mu_);
    woken_ = true;
  }
  wake_cv_.notify_all();
}

void PolicyService::NoteStateLost(SysTime now) {
  if (auto ended = engine_->TakeStateLostEnd()) {
    spdlog::warn("state file: the hold of every purge (state_lost) is over: {}", *ended);
    audit_.Add(StateLostEntry(AuditOutcome::kHoldEnded, *ended, now));
    dirty_ = true;
  }
  state_lost_ = engine_->StateLost().has_value();
}

void PolicyService::NotePause() {
  const bool now_paused = engine_->OutagePaused();
  if (now_paused == paused_.exchange(now_paused)) return;
  if (now_paused) {
    spdlog::warn("{}: holding every purge", engine_->PauseDetail());
  } else {
    spdlog::info("outage pause over: purges allowed again");
  }
}

SysTime PolicyService::SyncClockLocked() {
  const SysTime wall = clock_.Now();
  const MonoTime mono = clock_.Mono();
  const auto offset = std::chrono::duration_cast<std::chrono::nanoseconds>(
      wall.time_since_epoch() -
      std::chrono::duration_cast<SysTime::duration>(mono.time_since_epoch()));
  if (wall_offset_) {
    const std::chrono::nanoseconds step = offset - *wall_offset_;
    if (step > kClockStepThreshold || step < -kClockStepThreshold) {
      engine_->OnWallClockStep(std::chrono::duration_cast<SysTime::duration>(step));
      dirty_ = true;
      clock_stepped_ = true;
      spdlog::warn(
          "the wall clock stepped {} by {:.3f} s: cooldowns, budget spending, episodes, retries "
          "and `every` schedules moved with it and keep their length in real time",
          step.count() > 0 ? "forward" : "back",
          std::abs(std::chrono::duration<double>(step).count()));
    }
  }
  wall_offset_ = offset;
  return wall;
}

void PolicyService::OnCheck(const CheckEvent& event) {
  bool fired = false;
  {
    std::lock_guard lock(mu_);
    SyncClockLocked();
    CheckEvent e = event;
    if (e.mono_at != MonoTime{}) {
      e.at = SysTime(std::chrono::duration_cast<SysTime::duration>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(e.mono_at.time_since_epoch()) +
          *wall_offset_));
    }
    engine_->OnCheck(e);
    dirty_ = true;
    NotePause();
    // Until the thread has seen the first discovery, an answer (which comes right after it)
    // wakes it to poll the fleet: schedules must not wait for kFleetPollInterval.
    fired = engine_->HasPending() || (options_.fleet && !last_discovery_seen_);
  }
  // Only a fired condition needs the runner now; saves and schedules keep its own pace. Waking
  // it for every answer would cost a context switch per check.
  if (fired) Wake();
}

PolicyEngine::Budget PolicyService::Budget() const {
  std::lock_guard lock(mu_);
  return engine_->BudgetAt(clock_.Now());
}

void PolicyService::OnDiscovery(const std::vector<ConnectionState>& monitored, SysTime) {
  {
    std::lock_guard lock(mu_);
    engine_->OnDiscovery(monitored, SyncClockLocked());
    dirty_ = true;
    NotePause();
  }
  Wake();
}

void PolicyService::OnConnectionDetails(const ConnectionState& connection, SysTime) {
  bool fired = false;
  {
    std::lock_guard lock(mu_);
    engine_->OnConnectionDetails(connection, SyncClockLocked());
    dirty_ = true;
    fired = engine_->HasPending();
  }
  if (fired) Wake();
}

void PolicyService::OnTableProfile(const std::string& connection_id, const TableRef& table,
                                   std::optional<SysTime> synced_at, SysTime) {
  {
    std::lock_guard lock(mu_);
    engine_->OnTableProfile(connection_id, table, synced_at, SyncClockLocked());
    dirty_ = true;
  }
  Wake();
}

std::expected<AlertsReport, std::string> PolicyService::OnAlerts(
    const std::vector<webhook::Alert>& alerts) {
  AlertsReport report;
  SysTime now;
  {
    std::lock_guard lock(mu_);
    if (!engine_->Discovered()) {
      return std::unexpected(
          "no discovery yet: the connections that alerts name are not known; try again later");
    }
    now = SyncClockLocked();
    report = engine_->OnAlerts(alerts, now);
    dirty_ = true;
    // A new or ended episode is on disk at the next pass, with the audit of an ignored alert.
    if (report.started > 0 || report.ended > 0) save_soon_ = true;
  }
  for (const IgnoredAlert& ignored : report.ignored) {
    audit_.Add(AuditEntry{.time = now,
                          .policy = ignored.policy,
                          .action = ignored.action,
                          .target = ignored.target,
                          .trigger = ignored.trigger,
                          .outcome = AuditOutcome::kIgnored,
                          .detail = ignored.reason});
  }
  Wake();
  return report;
}

void PolicyService::Reconfigure(std::shared_ptr<const Config> config) {
  {
    std::lock_guard lock(mu_);
    engine_->Reconfigure(std::move(config));
    dirty_ = true;
  }
  Wake();
}

void PolicyService::PollFleet() {
  if (!options_.fleet) return;
  {
    std::lock_guard lock(mu_);
    // Every pass until the first discovery is seen, then every kFleetPollInterval.
    const MonoTime mono = clock_.Mono();
    if (last_discovery_seen_ && mono - last_fleet_poll_ < kFleetPollInterval) return;
    last_fleet_poll_ = mono;
  }
  const FleetSnapshot snapshot = options_.fleet();  // no lock: it takes the scheduler's
  if (!snapshot.discovered || !snapshot.last_discovery) return;
  std::vector<std::string> ids;
  ids.reserve(snapshot.connections.size());
  for (const ConnectionState& c : snapshot.connections) ids.push_back(c.info.id);
  std::lock_guard lock(mu_);
  // A reload changes the monitored set without a discovery: compare the ids too.
  if (last_discovery_seen_ == snapshot.last_discovery && last_ids_seen_ == ids) return;
  last_discovery_seen_ = snapshot.last_discovery;
  last_ids_seen_ = std::move(ids);
  // The last purges of connections that are gone (or no longer monitored) are not kept.
  std::erase_if(last_purge_, [&](const auto& purge) {
    return !std::ranges::binary_search(last_ids_seen_, purge.first);
  });
  engine_->OnDiscovery(snapshot.connections, SyncClockLocked());
  dirty_ = true;
  NotePause();
}

void PolicyService::Absorb(const nlohmann::json& sections) {
  if (auto it = sections.find(kStateSection); it != sections.end()) {
    auto theirs = PolicyStateFromJson(*it);
    if (theirs) {
      std::lock_guard lock(mu_);
      engine_->MergeShared(*theirs);
    } else {
      spdlog::warn("state file: ignoring what another process wrote: {}", theirs.error());
    }
  }
  std::set<std::string> ids;
  for (ManualAction& action : ManualActionsFrom(sections)) {
    if (!imported_manual_ids_.contains(action.id)) audit_.Add(std::move(action.entry));
    ids.insert(std::move(action.id));
  }
  imported_manual_ids_ = std::move(ids);
}

void PolicyService::MergeFileIfChanged() {
  if (options_.state_path.empty()) return;
  std::lock_guard save_lock(save_mu_);
  const auto stamp = state::Stamp(options_.state_path);
  if (!stamp || stamp == last_stamp_) return;
  // No file lock needed to read: writers replace the file atomically.
  auto doc = state::Load(options_.state_path, clock_.Now());
  if (!doc && doc.error().read_failed) {
    // Read again on the next pass; reported once per distinct problem, not every second.
    if (doc.error().message != last_read_error_) {
      spdlog::error("state file: {}; reading it again on each pass, saving nothing over it",
                    doc.error().message);
    }
    last_read_error_ = doc.error().message;
    return;
  }
  if (!last_read_error_.empty()) {
    spdlog::info("state file: {} read again", options_.state_path);
    last_read_error_.clear();
  }
  last_stamp_ = stamp;
  if (!doc) {
    spdlog::error("state file: {}", doc.error().message);
    return;
  }
  Absorb(*doc);
}

void PolicyService::RunOnce() {
  // Before deciding: purges the operator command line recorded count here too.
  MergeFileIfChanged();
  PollFleet();
  std::vector<Decision> decisions;
  bool save_due = false;
  {
    std::lock_guard lock(mu_);
    const SysTime now = SyncClockLocked();
    decisions = engine_->Evaluate(now);
    NotePause();
    NoteStateLost(now);
    // After a step of the wall clock, at once: the file's times are of the old clock.
    save_due = !decisions.empty() || clock_stepped_ || std::exchange(save_soon_, false) ||
               (dirty_ && clock_.Mono() - last_save_ >= kSaveInterval);
  }
  // Write-ahead: the cooldowns and budget that these purges take are on disk before any of them
  // is sent, so that a crash (kill -9, power loss) between a purge and the save after it cannot
  // let the restarted daemon repeat the purge inside its cooldown. A crash can at worst lose a
  // purge's outcome, never cause a second purge. When that save fails, nothing is sent.
  const bool performs = std::ranges::any_of(
      decisions, [](const Decision& d) { return d.verdict == Verdict::kPerform; });
  std::optional<std::string> unwritten;  // why the write-ahead save failed
  if (performs) {
    {
      // Written ahead with the cooldowns: after a crash, each shows as a purge whose outcome is
      // unknown instead of vanishing from the audit trail.
      std::lock_guard lock(mu_);
      const SysTime now = clock_.Now();
      for (const Decision& d : decisions) {
        if (d.verdict == Verdict::kPerform) in_flight_.push_back(EntryFor(d, now));
      }
    }
    if (auto saved = SaveAndReport(); !saved) {
      unwritten = "the state file could not be written ahead of the purge (" + saved.error() + ")";
    }
  }
  for (const Decision& d : decisions) {
    // The purge runs without the lock: checks keep flowing meanwhile.
    const std::optional<Outcome> outcome = unwritten && d.verdict == Verdict::kPerform
                                               ? runner_.HoldBack(d, *unwritten)
                                               : runner_.Execute(d);
    if (!outcome) continue;
    const SysTime now = clock_.Now();
    {
      std::lock_guard lock(mu_);
      engine_->OnOutcome(d, *outcome, now);
      // The runner audited the outcome of the kPerform `d`: it is no longer in flight.
      if (!in_flight_.empty()) in_flight_.pop_front();
      if (outcome->kind == OutcomeKind::kSuccess) last_purge_[d.target.connection_id] = now;
    }
    if (outcome->kind == OutcomeKind::kSuccess && options_.on_purged) {
      options_.on_purged(d.target.connection_id, now);
    }
  }
  if (save_due) {
    SaveAndReport();
  }
}

std::expected<void, std::string> PolicyService::SaveAndReport() {
  auto saved = Save();
  if (!saved && options_.on_save_error) options_.on_save_error();
  std::lock_guard lock(save_mu_);
  if (!saved) {
    ++failed_saves_;
    // Once per distinct problem: a read-only or full state directory must not flood the journal.
    if (saved.error() != last_save_error_) {
      spdlog::error(
          "state file: {}; monitoring goes on, purges are not sent until a save succeeds "
          "(failed saves: hotdata_monitor_state_save_errors_total)",
          saved.error());
    }
    last_save_error_ = saved.error();
  } else if (!last_save_error_.empty()) {
    spdlog::info("state file: saved to {} again, after {} failed saves", options_.state_path,
                 failed_saves_);
    last_save_error_.clear();
    failed_saves_ = 0;
  }
  return saved;
}

std::expected<void, std::string> PolicyService::Save() {
  if (options_.state_path.empty()) return {};
  std::lock_guard save_lock(save_mu_);
  // Read-merge-write under the file lock: what the operator command line wrote meanwhile (its
  // cooldowns, budget spending and audit entries) is kept, not overwritten.
  auto file_lock = state::StateLock::Acquire(options_.state_path, kStateLockTimeout);
  if (!file_lock) return std::unexpected(file_lock.error());
  nlohmann::json sections = nlohmann::json::object();
  const bool changed = state::Stamp(options_.state_path) != last_stamp_;
  auto doc = state::Load(options_.state_path, clock_.Now());
  if (!doc && doc.error().read_failed) {
    // What cannot be read is not overwritten: its cooldowns and its other owners' sections.
    return std::unexpected(doc.error().message + "; not saved over a file that could not be read");
  }
  if (doc) {
    if (changed) Absorb(*doc);
    sections = std::move(*doc);  // keep the sections of the file's other owners
  } else {
    spdlog::error("state file: {}", doc.error().message);
  }
  AuditSection audit{.entries = AuditOldestFirst(), .manual_ids = imported_manual_ids_};
  SysTime now;
  {
    std::lock_guard lock(mu_);
    now = clock_.Now();
    sections[kStateSection] = PolicyStateToJson(engine_->Export());
    audit.in_flight.assign(in_flight_.begin(), in_flight_.end());
    audit.last_purge = last_purge_;
    dirty_ = false;
    clock_stepped_ = false;
    last_save_ = clock_.Mono();
  }
  sections[kAuditSection] = AuditSectionToJson(audit, options_.audit_capacity);
  auto saved = state::Save(options_.state_path, sections, now);
  if (saved) last_stamp_ = state::Stamp(options_.state_path);
  return saved;
}

std::vector<AuditEntry> PolicyService::AuditOldestFirst() const {
  std::vector<AuditEntry> entries = audit_.Entries();
  std::reverse(entries.begin(), entries.end());
  return entries;
}

std::map<std::string, SysTime> PolicyService::LastPurges() const {
  std::lock_guard lock(mu_);
  return last_purge_;
}

nlohmann::json PolicyService::StatusJson(const std::string& connection_id) const {
  std::lock_guard lock(mu_);
  return StatusToJson(engine_->StatusFor(connection_id, clock_.Now()));
}

void PolicyService::Run() {
  pthread_setname_np(pthread_self(), "hdm-policy");
  std::unique_lock lock(wake_mu_);
  while (!stop_) {
    lock.unlock();
    RunOnce();
    std::optional<SysTime> next;
    {
      std::lock_guard engine_lock(mu_);
      next = engine_->NextDue();
    }
    const SysTime now = clock_.Now();
    lock.lock();
    if (stop_) break;
    if (woken_) {
      woken_ = false;
      continue;
    }
    // Capped: the fleet poll and the periodic save need a pass at least every second.
    SysTime::duration wait = kMaxWait;
    if (next)
      wait = std::clamp<SysTime::duration>(*next - now, SysTime::duration::zero(), kMaxWait);
    wake_cv_.wait_for(lock, wait, [this] { return stop_ || woken_; });
    woken_ = false;
  }
}

}  // namespace hdm::policy
