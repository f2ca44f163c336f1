// The "manual_actions" section of the state file: the purges that the operator command line
// (`hotdata-monitor connections purge`) performed, as audit entries. The command line appends
// them; the daemon imports the ones it has not seen into its AuditLog, so that they show in
// /api/v1/actions, the journal and hotdata_policy_actions_total{policy="manual"}.
//
// Pure functions on JSON; never throw. Thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/audit_log.h"

namespace hdm::policy {

inline constexpr char kManualActionsSection[] = "manual_actions";
// The `policy` of a manual purge's audit entry.
inline constexpr char kManualPolicy[] = "manual";
// The section keeps the newest this many.
inline constexpr size_t kManualActionsKept = 100;

struct ManualAction {
  std::string id;  // unique per action (time and process), how the daemon skips what it has seen
  AuditEntry entry;
};

// Appends `action` to sections[kManualActionsSection] (made a list when it is not one), dropping
// the oldest beyond kManualActionsKept.
void AppendManualAction(nlohmann::json& sections, const ManualAction& action);

// The section's actions, oldest first; entries that do not decode are skipped.
std::vector<ManualAction> ManualActionsFrom(const nlohmann::json& sections);

// The inverse of AuditEntry::ToJson() (time to the second); nullopt for anything else.
std::optional<AuditEntry> AuditEntryFromJson(const nlohmann::json& j);

}  // namespace hdm::policy
