// The alert event: episodes of the alerts that webhook notifications carry (OnAlerts), fired when
// their `for` is met (FireAlerts, at Evaluate).
#include <algorithm>
#include <chrono>

#include "common/saturating_time.h"
#include "health/selection.h"
#include "policy/engine.h"
#include "policy/trigger_text.h"

namespace hdm::policy {
namespace {

// Ended episodes are kept this long, so that a late copy of the firing notification (a retry
// that crossed the resolved one) starts nothing.
constexpr auto kEndedKept = std::chrono::days(1);
// Open episodes without a notification for this long are forgotten: the sender lost them
// (Alertmanager re-sends a firing alert every repeat_interval, 4h by default).
constexpr auto kUnseenKept = std::chrono::days(7);
// Label values quoted in an audit entry are cut to this many bytes.
constexpr size_t kMaxQuoted = 100;

std::string Quoted(const std::string& s) {
  if (s.size() <= kMaxQuoted) return "\"" + s + "\"";
  size_t n = kMaxQuoted;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // a UTF-8 boundary
  return "\"" + s.substr(0, n) + "...\"";
}

// The policy takes the alert: its name is listed and it carries every label with its value.
bool Takes(const WhenConfig& when, const webhook::Alert& alert) {
  if (std::ranges::find(when.alertnames, alert.Name()) == when.alertnames.end()) return false;
  return std::ranges::all_of(when.alert_labels, [&](const auto& label) {
    const std::string* value = alert.Label(label.first);
    return value != nullptr && *value == label.second;
  });
}

}  // namespace

AlertsReport PolicyEngine::OnAlerts(const std::vector<webhook::Alert>& alerts, SysTime now) {
  AlertsReport report;
  for (const webhook::Alert& alert : alerts) {
    bool taken = false;
    for (const PolicyConfig& p : config_->policies) {
      if (p.when.event != EventKind::kAlert || !Takes(p.when, alert)) continue;
      taken = true;
      OnAlert(p, alert, now, report);
    }
    if (!taken) ++report.unmatched;
  }
  PruneAlerts(now);
  return report;
}

void PolicyEngine::OnAlert(const PolicyConfig& p, const webhook::Alert& alert, SysTime now,
                           AlertsReport& report) {
  const AlertKey key{.policy = p.name, .fingerprint = alert.fingerprint};
  const bool resolved = alert.status == webhook::AlertStatus::kResolved;
  const std::string* summary = alert.Annotation("summary");
  if (auto it = state_.alert_episodes.find(key); it != state_.alert_episodes.end()) {
    AlertEpisode& ep = it->second;
    if (alert.starts_at < ep.starts_at) {  // a late notification of an episode before this one
      ++report.repeated;
      return;
    }
    if (alert.starts_at == ep.starts_at) {
      ep.last_seen = std::max(ep.last_seen, now);
      if (resolved && !ep.ended) {
        ep.ended = now;
        ++report.ended;
      } else {
        ++report.repeated;
        if (!resolved && summary != nullptr && !ep.fired) ep.summary = *summary;
      }
      return;
    }
  }
  // A new episode: the first notification of this alert, or one with a later startsAt.
  AlertEpisode ep{.starts_at = alert.starts_at,
                  .last_seen = now,
                  .alertname = alert.Name(),
                  .summary = summary != nullptr ? *summary : ""};
  if (resolved) {
    // Resolved before any firing notification reached us: remembered as ended, so that a late
    // copy of the firing one starts nothing.
    ep.ended = now;
    ep.fired = true;
    state_.alert_episodes[key] = std::move(ep);
    ++report.ended;
    return;
  }
  ++report.started;
  PurgeTarget target;
  std::string reason;
  if (auto connection = AlertConnection(alert); !connection) {
    reason = connection.error();
  } else {
    target.connection_id = (*connection)->id;
    target.connection_name = (*connection)->name;
    ep.connection_id = target.connection_id;
    if (!SelectorMatches(p.match, **connection)) {
      reason = target.Describe() + " is not one this policy's match selects";
    }
  }
  if (reason.empty() && p.action.purge == PurgeKind::kTable && p.action.tables.empty()) {
    const std::string* schema = alert.Label("schema");
    const std::string* table = alert.Label("table");
    if (schema == nullptr || table == nullptr || schema->empty() || table->empty()) {
      reason = "purge: table needs the alert's schema and table labels, or a tables: list";
    } else {
      ep.schema = *schema;
      ep.table = *table;
      target.table = TableRef{.schema = *schema, .table = *table};
    }
  }
  if (!reason.empty()) {
    ep.fired = true;
    report.ignored.push_back(
        IgnoredAlert{.policy = p.name,
                     .action = p.action.purge,
                     .target = std::move(target),
                     .trigger = AlertText(ep.alertname, ep.starts_at, ep.summary),
                     .reason = std::move(reason)});
  }
  state_.alert_episodes[key] = std::move(ep);
}

std::expected<const hotdata::ConnectionInfo*, std::string> PolicyEngine::AlertConnection(
    const webhook::Alert& alert) const {
  if (const std::string* id = alert.Label("connection_id"); id != nullptr && !id->empty()) {
    auto it = known_.find(*id);
    if (it == known_.end()) {
      return std::unexpected("connection_id " + Quoted(*id) + " is not a monitored connection");
    }
    return &it->second;
  }
  if (const std::string* name = alert.Label("connection"); name != nullptr && !name->empty()) {
    const hotdata::ConnectionInfo* found = nullptr;
    int matches = 0;
    for (const auto& [id, info] : known_) {
      if (info.name != *name) continue;
      found = &info;
      ++matches;
    }
    if (matches == 0) {
      return std::unexpected("connection " + Quoted(*name) + " is not a monitored connection");
    }
    if (matches > 1) {
      return std::unexpected("connection " + Quoted(*name) + " names " + std::to_string(matches) +
                             " monitored connections; give the alert a connection_id label");
    }
    return found;
  }
  return std::unexpected("the alert has neither a connection_id nor a connection label");
}

void PolicyEngine::FireAlerts(SysTime now, std::vector<Candidate>& out) {
  for (auto& [key, ep] : state_.alert_episodes) {
    if (ep.fired || ep.ended) continue;
    const PolicyConfig* p = FindPolicy(key.policy);
    if (p == nullptr || p->when.event != EventKind::kAlert) continue;
    if (SaturatingAdd(ep.starts_at, p->when.for_duration.value_or(Millis{0})) > now) continue;
    ep.fired = true;
    if (!known_.contains(ep.connection_id)) continue;  // gone since: nothing left to purge
    Candidate c{.policy = key.policy,
                .connection_id = ep.connection_id,
                .trigger = AlertText(ep.alertname, ep.starts_at, ep.summary)};
    if (!ep.table.empty()) c.tables.push_back(TableRef{.schema = ep.schema, .table = ep.table});
    out.push_back(std::move(c));
  }
}

void PolicyEngine::PruneAlerts(SysTime now) {
  auto& episodes = state_.alert_episodes;
  std::erase_if(episodes, [&](const auto& e) {
    const AlertEpisode& ep = e.second;
    return (ep.ended && SaturatingAdd(*ep.ended, kEndedKept) < now) ||
           SaturatingAdd(ep.last_seen, kUnseenKept) < now;
  });
  if (episodes.size() <= kMaxAlertEpisodes) return;
  // A flood of distinct alerts: the ones heard of longest ago go first.
  std::vector<std::pair<SysTime, AlertKey>> by_age;
  by_age.reserve(episodes.size());
  for (const auto& [key, ep] : episodes) by_age.emplace_back(ep.last_seen, key);
  const size_t excess = episodes.size() - kMaxAlertEpisodes;
  std::nth_element(by_age.begin(), by_age.begin() + static_cast<std::ptrdiff_t>(excess),
                   by_age.end());
  for (size_t i = 0; i < excess; ++i) episodes.erase(by_age[i].second);
}

}  // namespace hdm::policy
