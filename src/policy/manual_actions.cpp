#include "policy/manual_actions.h"

#include "common/time_format.h"

namespace hdm::policy {
namespace {

using nlohmann::json;

std::optional<std::string> StringAt(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::optional<AuditOutcome> OutcomeFrom(const std::string& name) {
  for (AuditOutcome o :
       {AuditOutcome::kSuccess, AuditOutcome::kFailed, AuditOutcome::kDryRun,
        AuditOutcome::kSuppressed, AuditOutcome::kUnknown, AuditOutcome::kHoldStarted,
        AuditOutcome::kHoldEnded, AuditOutcome::kIgnored}) {
    if (AuditOutcomeName(o) == name) return o;
  }
  return std::nullopt;
}

std::optional<SuppressReason> ReasonFrom(const std::string& name) {
  for (SuppressReason r :
       {SuppressReason::kMaintenance, SuppressReason::kPermanentError, SuppressReason::kCooldown,
        SuppressReason::kBudget, SuppressReason::kOutagePause, SuppressReason::kApiUnreachable,
        SuppressReason::kStateLost}) {
    if (ReasonName(r) == name) return r;
  }
  return std::nullopt;
}

}  // namespace

std::optional<AuditEntry> AuditEntryFromJson(const json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto time = StringAt(j, "time");
  const auto policy = StringAt(j, "policy");
  const auto action = StringAt(j, "action");
  const auto id = StringAt(j, "connection_id");
  const auto outcome_name = StringAt(j, "outcome");
  if (!time || !policy || !action || !id || !outcome_name) return std::nullopt;
  const auto at = ParseRfc3339(*time);
  const auto outcome = OutcomeFrom(*outcome_name);
  if (!at || !outcome) return std::nullopt;
  AuditEntry e{.time = *at, .policy = *policy, .outcome = *outcome};
  if (*action == ActionName(PurgeKind::kConnection)) {
    e.action = PurgeKind::kConnection;
  } else if (*action == ActionName(PurgeKind::kTable)) {
    e.action = PurgeKind::kTable;
  } else if (*action != "hold" ||
             (e.outcome != AuditOutcome::kHoldStarted && e.outcome != AuditOutcome::kHoldEnded)) {
    return std::nullopt;
  }
  e.target.connection_id = *id;
  e.target.connection_name = StringAt(j, "connection").value_or("");
  const auto schema = StringAt(j, "schema");
  const auto table = StringAt(j, "table");
  if (schema && table) e.target.table = TableRef{.schema = *schema, .table = *table};
  e.trigger = StringAt(j, "trigger").value_or("");
  e.detail = StringAt(j, "detail").value_or("");
  if (const auto reason = StringAt(j, "reason")) e.reason = ReasonFrom(*reason);
  if (e.outcome == AuditOutcome::kSuppressed && !e.reason) return std::nullopt;
  auto retry = j.find("retry");
  e.retry = retry != j.end() && retry->is_boolean() && retry->get<bool>();
  return e;
}

void AppendManualAction(json& sections, const ManualAction& action) {
  json& list = sections[kManualActionsSection];
  if (!list.is_array()) list = json::array();
  json entry = action.entry.ToJson();
  entry["id"] = action.id;
  list.push_back(std::move(entry));
  while (list.size() > kManualActionsKept) list.erase(list.begin());
}

std::vector<ManualAction> ManualActionsFrom(const json& sections) {
  std::vector<ManualAction> out;
  if (!sections.is_object()) return out;
  auto it = sections.find(kManualActionsSection);
  if (it == sections.end() || !it->is_array()) return out;
  for (const json& j : *it) {
    auto id = j.is_object() ? StringAt(j, "id") : std::nullopt;
    auto entry = AuditEntryFromJson(j);
    if (id && entry) out.push_back(ManualAction{.id = std::move(*id), .entry = std::move(*entry)});
  }
  return out;
}

}  // namespace hdm::policy
