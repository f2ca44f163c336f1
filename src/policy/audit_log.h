// AuditLog: the record of every policy decision, taken or held back. Each entry is one
// structured log line (`policy decision: {...}`, to the journal) and one entry of
// GET /api/v1/actions, and is counted for hotdata_policy_actions_total and
// hotdata_policy_suppressed_total.
//
// Thread-safe: the policy thread adds, HTTP and metrics threads read.
#pragma once

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

enum class AuditOutcome { kSuccess, kFailed, kDryRun, kSuppressed };
// "success", "failed", "dry_run", "suppressed": the `result` label and the JSON `outcome`.
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

  // Records `entry`: keeps it (dropping the oldest beyond capacity), counts it, and logs one
  // line: warn for kFailed, info otherwise.
  void Add(AuditEntry entry);

  // The body of GET /api/v1/actions: {"actions": [entry, ...]}, most recent first.
  std::string ToJson() const;
  // Most recent first.
  std::vector<AuditEntry> Entries() const;
  AuditCounters Counters() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  // Guarded by mu_.
  std::deque<AuditEntry> entries_;  // oldest first
  AuditCounters counters_;
};

// The entry that records `decision` with `outcome`; a kPerform decision needs its Outcome.
AuditEntry EntryFor(const Decision& decision, SysTime time,
                    const std::optional<Outcome>& outcome = std::nullopt);

}  // namespace hdm::policy
