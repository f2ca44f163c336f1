// PolicyEngine's view for /api/v1/status and /metrics, and the names of decision values.
#include <algorithm>

#include "common/time_format.h"
#include "health/selection.h"
#include "policy/engine.h"
#include "policy/trigger_text.h"

namespace hdm::policy {

std::string_view ReasonName(SuppressReason reason) {
  switch (reason) {
    case SuppressReason::kMaintenance:
      return "maintenance";
    case SuppressReason::kPermanentError:
      return "permanent_error";
    case SuppressReason::kCooldown:
      return "cooldown";
    case SuppressReason::kBudget:
      return "budget";
    case SuppressReason::kOutagePause:
      return "outage_pause";
    case SuppressReason::kApiUnreachable:
      return "api_unreachable";
    case SuppressReason::kStateLost:
      return "state_lost";
  }
  return "unknown";
}

std::string_view ActionName(PurgeKind action) {
  return action == PurgeKind::kTable ? "purge_table" : "purge_connection";
}

std::string PurgeTarget::Describe() const {
  std::string out =
      connection_name.empty() ? connection_id : connection_name + " (" + connection_id + ")";
  if (table) out += " table " + TableText(*table);
  return out;
}

std::vector<PolicyStatus> PolicyEngine::StatusFor(const std::string& connection_id,
                                                  SysTime now) const {
  std::vector<PolicyStatus> out;
  auto conn = known_.find(connection_id);
  for (const PolicyConfig& p : config_->policies) {
    PolicyStatus st{.policy = p.name, .dry_run = p.dry_run || config_->safety.dry_run};
    bool has_state = false;
    auto of_connection = [&](const PolicyKey& key) {
      return key.policy == p.name && key.target.connection_id == connection_id;
    };
    for (const auto& [key, ep] : state_.episodes) {
      if (!of_connection(key)) continue;
      has_state = true;
      st.episode_open = true;
      st.episode_fired = st.episode_fired || ep.fired;
      if (!st.episode_since || ep.since < *st.episode_since) st.episode_since = ep.since;
    }
    for (const auto& [key, until] : state_.cooldown_until) {
      if (!of_connection(key) || until <= now) continue;
      has_state = true;
      if (!st.cooldown_until || until > *st.cooldown_until) st.cooldown_until = until;
    }
    for (const auto& [key, retry] : state_.retries) {
      if (!of_connection(key)) continue;
      has_state = true;
      if (!st.retry_due || retry.due < *st.retry_due) st.retry_due = retry.due;
    }
    for (const auto& [target, mark] : state_.permanent) {
      if (target.connection_id != connection_id) continue;
      has_state = true;
      st.permanent =
          (target.IsTable() ? "table " + TableText(*target.Table()) + ": " : "") + mark.message;
    }
    const bool matches = conn != known_.end() && SelectorMatches(p.match, conn->second);
    if (matches || has_state) out.push_back(std::move(st));
  }
  return out;
}

PolicyEngine::Budget PolicyEngine::BudgetAt(SysTime now) const {
  const int64_t spent = BudgetSpent(now);
  const int64_t limit = config_->safety.max_purges_per_hour;
  return {.limit = limit, .remaining = std::max<int64_t>(0, limit - spent)};
}

nlohmann::json StatusToJson(const std::vector<PolicyStatus>& statuses) {
  using nlohmann::json;
  auto time_or_null = [](const std::optional<SysTime>& t) {
    return t ? json(FormatRfc3339(*t)) : json(nullptr);
  };
  json out = json::array();
  for (const PolicyStatus& s : statuses) {
    json episode = nullptr;
    if (s.episode_open) {
      episode = {{"since", time_or_null(s.episode_since)}, {"fired", s.episode_fired}};
    }
    out.push_back({{"policy", s.policy},
                   {"dry_run", s.dry_run},
                   {"episode", episode},
                   {"cooldown_until", time_or_null(s.cooldown_until)},
                   {"permanent_error", s.permanent ? json(*s.permanent) : json(nullptr)},
                   {"retry_due", time_or_null(s.retry_due)}});
  }
  return out;
}

}  // namespace hdm::policy
