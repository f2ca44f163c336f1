// AuditLog: the record of every policy decision, taken or held back. Each entry is one
// structured log line (`policy decision: {...}`, to the journal) and one entry of
// GET /api/v1/actions, and is counted for hotdata_policy_actions_total and
// hotdata_policy_suppressed_total.
//
// Entries survive a restart in the state file's "audit" section (audit_section.h): the
// daemon restores them at start.
//
// Thread-safe: the policy thread adds, HTTP and metrics threads read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "config/config.h"
#include "policy/decision.h"

namespace hdm::policy {

// kUnknown: a purge that was sent (written ahead in the state file) but whose answer was never
// recorded, because the daemon stopped abruptly meanwhile; it comes back only from the state
// file, and is never counted (hotdata_policy_actions_total knows success|failed|dry_run).
//
// kHoldStarted and kHoldEnded are no decision: the start and end of the state_lost hold of every
// purge (policy and target empty, reason state_lost), never counted.
//
// kIgnored: an alert (event: alert) that a policy took but cannot act on, once per alert episode:
// it names no monitored connection, one outside the policy's match, or no table for a table
// purge. `detail` says which; never counted here (hotdata_webhook_alerts_total counts alerts).
enum class AuditOutcome {
  kSuccess,
  kFailed,
  kDryRun,
  kSuppressed,
  kUnknown,
  kHoldStarted,
  kHoldEnded,
  kIgnored,
};
// "success", "failed", "dry_run", "suppressed", "unknown", "hold_started", "hold_ended",
// "ignored": the JSON `outcome`, and the `result` label of the first three.
std::string_view AuditOutcomeName(AuditOutcome outcome);

struct AuditEntry {
  SysTime time{};
  std::string policy;
  PurgeKind action = PurgeKind::kConnection;
  PurgeTarget target;
  std::string trigger;
  AuditOutcome outcome = AuditOutcome::kSuppressed;
  std::optional<SuppressReason> reason;  // set exactly for kSuppressed
  std::string detail;  // the suppression's specifics, or the API error of a failed purge
  bool retry = false;

  // The entry as one JSON object: {"time","policy","action","connection_id","connection",
  // "schema","table" (table purges only),"target","trigger","outcome","reason","detail","retry"}.
  nlohmann::json ToJson() const;
};

// Cumulative counts since start, for the metrics. Keys are label values.
struct AuditCounters {
  // (policy, action, result) -> count; result is success|failed|dry_run.
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> actions;
  // (policy, reason) -> count.
  std::map<std::pair<std::string, std::string>, uint64_t> suppressed;
};

class AuditLog {
 public:
  static constexpr size_t kDefaultCapacity = 1000;
  explicit AuditLog(size_t capacity = kDefaultCapacity);

  // Records `entry`: keeps it (dropping the oldest beyond capacity), counts it (but kUnknown),
  // and logs one line: warn for kFailed and kUnknown, info otherwise.
  void Add(AuditEntry entry);
  // Puts `oldest_first` (entries of an earlier run, from the state file) before the entries
  // already kept, dropping the oldest beyond capacity. Neither logged nor counted again: the
  // run that made them did both.
  void Restore(std::vector<AuditEntry> oldest_first);

  // The body of GET /api/v1/actions: {"actions": [entry, ...]}, most recent first.
  std::string ToJson() const;
  // Most recent first, at most `max` of them.
  std::vector<AuditEntry> Entries(size_t max = SIZE_MAX) const;
  AuditCounters Counters() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  // Guarded by mu_.
  std::deque<AuditEntry> entries_;  // oldest first
  AuditCounters counters_;
};

// Why an entry's outcome is kUnknown.
inline constexpr char kUnknownOutcomeDetail[] =
    "sent, but the daemon stopped before the answer was recorded: the purge may or may not have "
    "been done";

// The entry of the start (kHoldStarted) or end (kHoldEnded) of the state_lost hold, at `time`,
// with `detail` saying why.
AuditEntry StateLostEntry(AuditOutcome outcome, std::string detail, SysTime time);

// The entry that records `decision` with `outcome`. A kPerform decision without its Outcome is
// kUnknown: the entry that stands for a purge in flight.
AuditEntry EntryFor(const Decision& decision, SysTime time,
                    const std::optional<Outcome>& outcome = std::nullopt);

}  // namespace hdm::policy
