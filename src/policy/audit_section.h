// The "audit" section of the state file: what the daemon's audit trail needs to survive a
// restart (docs/policies.md, "What survives a restart"):
// - the newest entries of its AuditLog, the ones GET /api/v1/actions serves;
// - the purges in flight at the write-ahead save, so that a crash before their answer is
//   recorded leaves each as an entry with outcome "unknown" instead of nothing;
// - the last successful purge of each connection
//   (hotdata_connection_last_purge_timestamp_seconds, `last_purge` in /api/v1/status);
// - the ids of the operator's manual actions already in the audit log, so that a restart does
//   not import, log and count them again.
// The daemon owns the section; the operator command line keeps it as it is. It is apart from the
// "policy" section so that a damaged audit section costs the audit trail, never the cooldowns.
//
// Pure functions on JSON; never throw. Thread-safe.
#pragma once

#include <cstddef>
#include <expected>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "policy/audit_log.h"

namespace hdm::policy {

inline constexpr char kAuditSection[] = "audit";

struct AuditSection {
  std::vector<AuditEntry> entries;  // oldest first
  // Purges sent whose answer is not recorded (outcome kUnknown), oldest first; all newer than
  // `entries`.
  std::vector<AuditEntry> in_flight;
  std::map<std::string, SysTime> last_purge;  // by connection id
  std::set<std::string> manual_ids;           // ManualAction ids already in the audit log
};

// The section as JSON, keeping at most `max_entries` of `entries` and `in_flight` together (the
// oldest entries go first):
//   {"entries": [<entry>, ...], "last_purge_ms": {"<connection id>": <unix ms>, ...},
//    "manual_ids": ["<id>", ...]}
// <entry> is AuditEntry::ToJson() without its derived "target" and its empty "reason",
// "detail" and "retry", plus "in_flight": true for one of `in_flight`.
nlohmann::json AuditSectionToJson(const AuditSection& section, size_t max_entries);

// sections[kAuditSection]; none at all (a file from before the section) is an empty one.
// Entries, times and ids that do not decode are skipped; a section of another shape is an
// error that says why.
std::expected<AuditSection, std::string> AuditSectionFrom(const nlohmann::json& sections);

}  // namespace hdm::policy
