// A manual purge (`connections purge`) and the daemon's shared state: the same safeties the
// policy engine applies, and the same cooldowns and budget it keeps, in the state file.
//
// Pure functions over PolicyState, plus the locked read-modify-write of the state file
// (UpdateSharedState). See docs/operator-cli.md for the whole design.
#pragma once

#include <expected>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "config/config.h"
#include "hotdata/types.h"
#include "policy/decision.h"
#include "policy/policy_state.h"

namespace hdm::ops {

struct Refusal {
  policy::SuppressReason reason = policy::SuppressReason::kCooldown;
  std::string detail;  // "cooldown of policy purge-slow until 2026-...Z"
};

// The first safety that holds back a manual purge of `target` at `now`, in the engine's order:
// the state_lost hold (the daemon could not use its state file); a maintenance window; a permanent
// mark made under this config; a cooldown of any policy on the target (for a table, on its
// connection too: that purge covered the table); the hourly budget. The outage pause needs the
// daemon's live answers and is not checked here.
std::optional<Refusal> CheckManualPurge(const Config& config, const policy::PolicyState& state,
                                        const policy::TargetKey& target, SysTime now);

struct CooldownChange {
  std::optional<SysTime> previous;  // what the key held before, if anything
  SysTime set{};                    // what the manual purge set
};
using CooldownChanges = std::map<policy::PolicyKey, CooldownChange>;

// Spends one purge of the budget at `now` and starts the cooldown of every policy that could
// purge this target (same action kind, its match selects the connection, its tables list is
// empty or names the table), as if that policy had just purged it. Returns what it changed.
CooldownChanges RecordManualPurge(const Config& config, policy::PolicyState& state,
                                  const policy::TargetKey& target,
                                  const hotdata::ConnectionInfo& connection, SysTime now);

// After a purge that did not happen (an API error): gives back the cooldowns that still hold
// what RecordManualPurge set. The budget stays spent: the request was sent.
void RestoreCooldowns(policy::PolicyState& state, const CooldownChanges& changes);

// The state file's sections (without the envelope) and its "policy" section decoded; a missing
// file or an empty path gives empty ones. Reads only: never sets a bad file aside (the daemon
// does that). Errors name the file.
struct SharedState {
  nlohmann::json sections = nlohmann::json::object();
  policy::PolicyState policy;
};
std::expected<SharedState, std::string> ReadSharedState(const std::string& path);

// Under the state file's lock (state::StateLock): reads it, lets `update` change it and, when
// `update` returns true, saves it back. Errors (lock, read, write) name the file.
std::expected<void, std::string> UpdateSharedState(const std::string& path, SysTime now,
                                                   const std::function<bool(SharedState&)>& update);

}  // namespace hdm::ops
