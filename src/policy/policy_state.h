// PolicyState: everything of the policy engine that must survive a restart, and its JSON form
// (the "policy" section of the state file). Plain values; the engine owns one and exports a
// copy.
#pragma once

#include <compare>
#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "config/config.h"

namespace hdm::policy {

// A purge target's identity: a connection, or one of its tables when `table` is not empty.
struct TargetKey {
  std::string connection_id;
  std::string schema;  // empty with `table` for a connection target
  std::string table;

  bool IsTable() const { return !table.empty(); }
  std::optional<TableRef> Table() const {
    if (!IsTable()) return std::nullopt;
    return TableRef{.schema = schema, .table = table};
  }
  static TargetKey Of(const std::string& connection_id, const std::optional<TableRef>& t) {
    return t ? TargetKey{connection_id, t->schema, t->table} : TargetKey{connection_id, "", ""};
  }
  auto operator<=>(const TargetKey&) const = default;
};

// A policy's view of one target: the key of cooldowns, retries and episodes. (Episodes use the
// table part only for table_stale, whose episodes are per table.)
struct PolicyKey {
  std::string policy;
  TargetKey target;
  auto operator<=>(const PolicyKey&) const = default;
};

// One run of a condition on one target: open from the first answer that meets the condition's
// base test (unhealthy, latency above the threshold, table stale) until one that does not.
struct Episode {
  SysTime since{};                // first answer of the run
  SysTime last{};                 // latest answer of the run
  int64_t answers = 0;            // answers in the run
  bool fired = false;             // the policy fired (or was suppressed) for this run: never again
  bool overlapped_pause = false;  // an outage pause was on at some moment of the run
  friend bool operator==(const Episode&, const Episode&) = default;
};

struct PermanentMark {
  std::string policy;  // whose purge got the 400/409
  SysTime at{};
  std::string message;  // the API's answer
  friend bool operator==(const PermanentMark&, const PermanentMark&) = default;
};

struct PendingRetry {
  SysTime due{};
  std::string connection_name;
  std::string trigger;  // of the original decision
  friend bool operator==(const PendingRetry&, const PendingRetry&) = default;
};

struct TableCounts {
  std::optional<int64_t> table_count;
  std::optional<int64_t> synced_table_count;
  friend bool operator==(const TableCounts&, const TableCounts&) = default;
};

// Every purge is held (SuppressReason::kStateLost) because the state file could not be used at a
// start (not valid state, or a version this build can neither read nor migrate): the cooldowns
// and budget spending it held are lost, so any purge might repeat one they would have held back.
struct StateLostHold {
  SysTime since{};      // when the hold began; what an operator's clear names
  SysTime file_time{};  // the unusable file's last modification: the hold lifts by itself once
                        // the longest cooldown and the budget's hour have passed since
  std::string file;     // where the file was set aside; empty when it could not be moved
  std::string why;      // the problem, as logged at the start
  friend bool operator==(const StateLostHold&, const StateLostHold&) = default;
};

// An alert policy's (event: alert) view of one alert episode: the alert known by its fingerprint,
// from its startsAt on. A notification with the same fingerprint and startsAt is a repeat; a later
// startsAt is a new episode; `resolved` ends it.
struct AlertKey {
  std::string policy;
  std::string fingerprint;
  auto operator<=>(const AlertKey&) const = default;
};
struct AlertEpisode {
  SysTime starts_at{};           // the alert's own, whole milliseconds
  SysTime last_seen{};           // the latest notification that carried it
  std::optional<SysTime> ended;  // when a resolved notification ended it
  std::string alertname;
  std::string summary;        // its summary annotation, for the audit's trigger
  std::string connection_id;  // the target; empty when the alert was ignored
  std::string schema;         // from the alert's schema and table labels, for purge: table
  std::string table;
  bool fired = false;  // decided (fired, held back or ignored): never again in this episode
  friend bool operator==(const AlertEpisode&, const AlertEpisode&) = default;
};

struct PolicyState {
  std::map<PolicyKey, SysTime> cooldown_until;
  std::vector<SysTime> budget_spends;  // purge attempts, oldest first; only the last hour counts
  std::map<TargetKey, PermanentMark> permanent;
  // ConfigFingerprint() of the config the permanent marks were made under: a different config
  // clears them ("not tried again until the config changes").
  std::string permanent_fingerprint;
  // PolicyFingerprint() of each policy the episodes and retries belong to: a changed or removed
  // policy loses them.
  std::map<std::string, std::string> policy_fingerprints;
  std::map<PolicyKey, Episode> episodes;
  std::map<std::string, SysTime> schedule_last_fire;  // by policy
  std::map<PolicyKey, PendingRetry> retries;
  std::map<std::string, TableCounts> table_counts;  // by connection id, from the last discovery
  std::optional<StateLostHold> state_lost;
  // The `since` of the last hold an operator cleared (`hotdata-monitor state clear-hold`): the
  // daemon that holds it ends it when it reads this from the file.
  std::optional<SysTime> state_lost_cleared;
  std::map<AlertKey, AlertEpisode> alert_episodes;

  friend bool operator==(const PolicyState&, const PolicyState&) = default;
};

// Folds into `into` what another process (the operator command line) recorded in the shared
// state file `from`: cooldowns (per key, the later end wins), budget spending (per instant,
// the larger count: the same file read twice adds nothing) and an operator's clear of the
// state_lost hold (which ends `into`'s hold when it names it). Everything else of `into` stays.
void MergeShared(PolicyState& into, const PolicyState& from);

// The state file's times: Unix milliseconds.
int64_t ToUnixMs(SysTime t);
SysTime FromUnixMs(int64_t ms);

// Times are Unix milliseconds. Never throws.
nlohmann::json PolicyStateToJson(const PolicyState& state);
// Rejects (with the path of the first bad field) anything that is not what ToJson() writes.
// Never throws.
std::expected<PolicyState, std::string> PolicyStateFromJson(const nlohmann::json& j);

}  // namespace hdm::policy
