#include "ops/purge_guard.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/time_format.h"
#include "config/maintenance.h"
#include "health/selection.h"
#include "policy/fingerprint.h"
#include "state/state_file.h"
#include "state/state_lock.h"

namespace hdm::ops {
namespace {

constexpr auto kLockTimeout = std::chrono::seconds(10);
constexpr char kPolicySection[] = "policy";

bool Covers(const policy::TargetKey& held, const policy::TargetKey& target) {
  if (held == target) return true;
  return target.IsTable() && !held.IsTable() && held.connection_id == target.connection_id;
}

}  // namespace

std::optional<Refusal> CheckManualPurge(const Config& config, const policy::PolicyState& state,
                                        const policy::TargetKey& target, SysTime now) {
  if (state.state_lost) {
    return Refusal{policy::SuppressReason::kStateLost,
                   "every purge is held since " + FormatRfc3339(state.state_lost->since) +
                       ": the state file could not be used (" + state.state_lost->why +
                       "); `hotdata-monitor state clear-hold` ends the hold"};
  }
  for (const MaintenanceWindow& w : config.safety.maintenance) {
    if (const auto end = MaintenanceWindowEnd(w, now)) {
      return Refusal{
          policy::SuppressReason::kMaintenance,
          "inside the maintenance window \"" + w.cron_text + "\" until " + FormatRfc3339(*end)};
    }
  }
  if (auto it = state.permanent.find(target);
      it != state.permanent.end() &&
      state.permanent_fingerprint == policy::ConfigFingerprint(config)) {
    return Refusal{policy::SuppressReason::kPermanentError,
                   "marked permanent at " + FormatRfc3339(it->second.at) + " by policy " +
                       it->second.policy + ": " + it->second.message};
  }
  const std::pair<const policy::PolicyKey, SysTime>* latest = nullptr;
  for (const auto& entry : state.cooldown_until) {
    if (entry.second > now && Covers(entry.first.target, target) &&
        (latest == nullptr || entry.second > latest->second)) {
      latest = &entry;
    }
  }
  if (latest != nullptr) {
    std::string what = latest->first.target == target ? "" : " (a purge of the whole connection)";
    return Refusal{policy::SuppressReason::kCooldown, "cooldown of policy " + latest->first.policy +
                                                          what + " until " +
                                                          FormatRfc3339(latest->second)};
  }
  const auto spent = std::count_if(state.budget_spends.begin(), state.budget_spends.end(),
                                   [&](SysTime t) { return t > now - policy::kBudgetWindow; });
  if (spent >= config.safety.max_purges_per_hour) {
    return Refusal{policy::SuppressReason::kBudget,
                   "budget spent: " + std::to_string(spent) + " purges in the last hour (max " +
                       std::to_string(config.safety.max_purges_per_hour) + ")"};
  }
  return std::nullopt;
}

CooldownChanges RecordManualPurge(const Config& config, policy::PolicyState& state,
                                  const policy::TargetKey& target,
                                  const hotdata::ConnectionInfo& connection, SysTime when) {
  // The file keeps milliseconds: so must what RestoreCooldowns() compares with.
  const SysTime now = std::chrono::floor<std::chrono::milliseconds>(when);
  state.budget_spends.insert(
      std::upper_bound(state.budget_spends.begin(), state.budget_spends.end(), now), now);
  const PurgeKind kind = target.IsTable() ? PurgeKind::kTable : PurgeKind::kConnection;
  CooldownChanges changes;
  for (const PolicyConfig& p : config.policies) {
    if (p.action.purge != kind || !SelectorMatches(p.match, connection)) continue;
    if (target.IsTable() && !p.action.tables.empty() &&
        std::none_of(p.action.tables.begin(), p.action.tables.end(), [&](const TableRef& t) {
          return t.schema == target.schema && t.table == target.table;
        })) {
      continue;
    }
    const policy::PolicyKey key{.policy = p.name, .target = target};
    CooldownChange change{.set = now + p.cooldown};
    if (auto it = state.cooldown_until.find(key); it != state.cooldown_until.end()) {
      change.previous = it->second;
      change.set = std::max(change.set, it->second);
    }
    state.cooldown_until[key] = change.set;
    changes[key] = change;
  }
  return changes;
}

void RestoreCooldowns(policy::PolicyState& state, const CooldownChanges& changes) {
  for (const auto& [key, change] : changes) {
    auto it = state.cooldown_until.find(key);
    if (it == state.cooldown_until.end() || it->second != change.set) continue;  // moved on
    if (change.previous) {
      it->second = *change.previous;
    } else {
      state.cooldown_until.erase(it);
    }
  }
}

std::expected<SharedState, std::string> ReadSharedState(const std::string& path) {
  SharedState shared;
  if (path.empty()) return shared;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return shared;
    return std::unexpected(path + ": cannot read: " + std::strerror(errno));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(buffer.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return std::unexpected(path + ": not a JSON object");
  // What the daemon reads, this reads: a migratable older version, a newer one readable by this.
  auto upgraded = state::Upgrade(std::move(doc), state::CurrentFormat());
  if (!upgraded) {
    return std::unexpected(path + ": not a state file of version " +
                           std::to_string(state::CurrentFormat().version) +
                           " or one it can read: " + upgraded.error());
  }
  doc = std::move(upgraded->sections);
  if (auto it = doc.find(kPolicySection); it != doc.end()) {
    auto decoded = policy::PolicyStateFromJson(*it);
    if (!decoded) return std::unexpected(path + ": " + decoded.error());
    shared.policy = std::move(*decoded);
  }
  shared.sections = std::move(doc);
  return shared;
}

std::expected<void, std::string> UpdateSharedState(
    const std::string& path, SysTime now, const std::function<bool(SharedState&)>& update) {
  if (path.empty()) {
    SharedState scratch;
    (void)update(scratch);
    return {};
  }
  auto lock = state::StateLock::Acquire(path, kLockTimeout);
  if (!lock) return std::unexpected(lock.error());
  auto shared = ReadSharedState(path);
  if (!shared) return std::unexpected(shared.error());
  if (!update(*shared)) return {};
  shared->sections[kPolicySection] = policy::PolicyStateToJson(shared->policy);
  return state::Save(path, shared->sections, now);
}

}  // namespace hdm::ops
