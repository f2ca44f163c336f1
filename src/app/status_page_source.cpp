#include "app/status_page_source.h"

#include <algorithm>
#include <utility>

#include "common/time_format.h"
#include "common/version.h"
#include "config/maintenance.h"

namespace hdm {

statuspage::PageData CollectStatusPage(FleetSnapshot fleet, const policy::PolicyService& policy,
                                       const Config& config, SysTime now,
                                       std::chrono::seconds uptime, size_t decisions) {
  statuspage::PageData d;
  d.now = now;
  d.version = kVersion;
  d.workspace = config.api.workspace_id;
  d.uptime = uptime;
  d.fleet = std::move(fleet);

  statuspage::SafetyState& s = d.safety;
  s.has_policies = !config.policies.empty();
  const policy::PolicyEngine::Budget budget = policy.Budget();
  s.budget_limit = budget.limit;
  s.budget_remaining = budget.remaining;
  s.outage_pause = policy.OutagePaused();
  s.state_lost = policy.StateLost();
  s.dry_run = config.safety.dry_run;
  for (const MaintenanceWindow& w : config.safety.maintenance) {
    if (const auto end = MaintenanceWindowEnd(w, now)) {
      s.maintenance_in_force.push_back("\"" + w.cron_text + "\" until " + FormatRfc3339(*end));
    }
  }

  std::vector<policy::AuditEntry> entries = policy.audit().Entries(decisions);  // newest first
  for (policy::AuditEntry& e : entries) {
    statuspage::DecisionRow row;
    row.time = e.time;
    row.policy = std::move(e.policy);
    if (!e.target.connection_id.empty()) row.target = e.target.Describe();
    row.outcome = policy::AuditOutcomeName(e.outcome);
    if (e.reason) row.reason = policy::ReasonName(*e.reason);
    row.detail = e.retry ? "retry: " : "";
    row.detail += e.detail.empty() ? e.trigger : e.detail;
    d.decisions.push_back(std::move(row));
  }
  return d;
}

}  // namespace hdm
