// What the policy engine decides and what performing a decision gave: the values that flow
// from PolicyEngine::Evaluate() to PolicyRunner and back to PolicyEngine::OnOutcome().
// Plain values; thread-safe to copy.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace hdm::policy {

// The global budget's sliding window (safety.max_purges_per_hour): spending older than this
// counts no more. The engine, its status, the state_lost hold and the operator command line's
// guard all use this one.
inline constexpr std::chrono::hours kBudgetWindow{1};

// Why a decision was held back, in the order the engine checks them (product.md, "Safety").
// kStateLost and kApiUnreachable come before the five of product.md: while the state file could
// not be used at a start (its cooldowns and budget lost), nothing is purged until an operator
// clears the hold or the file ages out; while the monitor's own requests to the API fail, nothing
// is spent on purges that would fail too.
enum class SuppressReason {
  kMaintenance,
  kPermanentError,
  kCooldown,
  kBudget,
  kOutagePause,
  kApiUnreachable,
  kStateLost,
};
// The `reason` label of hotdata_policy_suppressed_total: "maintenance", "permanent_error", ...
std::string_view ReasonName(SuppressReason reason);

// What a purge acts on: the connection (purge: connection) or one of its tables (purge: table).
struct PurgeTarget {
  std::string connection_id;
  std::string connection_name;  // for messages only; not part of the identity
  std::optional<TableRef> table;

  // "prod-pg (c_1)" or "prod-pg (c_1) table public.orders".
  std::string Describe() const;
};

enum class Verdict {
  kPerform,     // call the API
  kDryRun,      // record only (global --dry-run / safety.dry_run, or the policy's dry_run)
  kSuppressed,  // held back by `reason`
};

struct Decision {
  uint64_t id = 0;  // unique within one engine's life; OnOutcome() matches on it
  std::string policy;
  PurgeKind action = PurgeKind::kConnection;
  PurgeTarget target;
  // What made the policy fire, for people: "recovered after 4 unhealthy answers (12m down)".
  std::string trigger;
  bool retry = false;  // the one retry of a purge that failed transiently
  Verdict verdict = Verdict::kSuppressed;
  SuppressReason reason = SuppressReason::kMaintenance;  // meaningful for kSuppressed only
  std::string detail;  // for kSuppressed: the specifics, e.g. "cooldown until 2024-...Z"
};

// The `action` label of hotdata_policy_actions_total: "purge_connection" or "purge_table".
std::string_view ActionName(PurgeKind action);

// How performing a kPerform decision went, as the runner classified the API's answer.
enum class OutcomeKind {
  kSuccess,         // purged: cooldown starts
  kPermanentError,  // 400/409: the target is marked and not tried again until the config changes
  kTransientError,  // 5xx, 429, timeout, connection error, cancelled: retried once, later
  kFailed,          // anything else (404, 401, 403, a bad body): not retried; cooldown starts
  kUnknown,         // cut off by shutdown after the request went out: it may have purged, so
                    // the cooldown stands and it is not retried
};

struct Outcome {
  OutcomeKind kind = OutcomeKind::kSuccess;
  std::string message;  // the API error, "" on success
  // The request failed as an unreachable API does (connection error, timeout, 5xx): it counts
  // towards the api_unreachable hold like a failed check.
  bool unreachable = false;
};

}  // namespace hdm::policy
