#include "metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

#include "common/version.h"
#include "health/selection.h"
#include "metrics/exposition.h"
#include "metrics/fleet_metrics.h"
#include "metrics/process_metrics.h"

namespace hdm {

namespace {

const prometheus::Histogram::BucketBoundaries kRequestBuckets = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30};

// The label values of hotdata_webhook_requests_total and hotdata_webhook_alerts_total.
constexpr const char* kWebhookResults[] = {"ok", "bad_request", "too_large", "unavailable"};
constexpr const char* kWebhookStatuses[] = {"firing", "resolved"};

}  // namespace

struct Metrics::Impl {
  Impl()
      : registry(std::make_shared<prometheus::Registry>()),
        requests(prometheus::BuildCounter()
                     .Name("hotdata_api_requests_total")
                     .Help("HTTP requests sent to the Hotdata API, each retry attempt counted, "
                           "by operation and HTTP status or failure code.")
                     .Register(*registry)),
        durations(prometheus::BuildHistogram()
                      .Name("hotdata_api_request_duration_seconds")
                      .Help("Duration of HTTP requests to the Hotdata API, in seconds.")
                      .Register(*registry)),
        reload_successful(prometheus::BuildGauge()
                              .Name("hotdata_monitor_config_last_reload_successful")
                              .Help("1 if the last configuration load or reload succeeded, else 0.")
                              .Register(*registry)
                              .Add({})),
        reload_timestamp(prometheus::BuildGauge()
                             .Name("hotdata_monitor_config_last_reload_success_timestamp_seconds")
                             .Help("Unix time of the last successful configuration load or reload.")
                             .Register(*registry)
                             .Add({})),
        state_save_errors(prometheus::BuildCounter()
                              .Name("hotdata_monitor_state_save_errors_total")
                              .Help("Saves of the state file that failed (state directory "
                                    "read-only, full or gone); a purge is not sent while its "
                                    "save fails.")
                              .Register(*registry)
                              .Add({})),
        webhook_requests(prometheus::BuildCounter()
                             .Name("hotdata_webhook_requests_total")
                             .Help("Notifications POSTed to /api/v1/alerts, by result: ok, "
                                   "bad_request (400), too_large (413), unavailable (503, before "
                                   "the first discovery).")
                             .Register(*registry)),
        webhook_alerts(prometheus::BuildCounter()
                           .Name("hotdata_webhook_alerts_total")
                           .Help("Alerts in the notifications accepted at /api/v1/alerts, by "
                                 "their status: firing or resolved.")
                           .Register(*registry)),
        webhook_truncated(prometheus::BuildCounter()
                              .Name("hotdata_webhook_alerts_truncated_total")
                              .Help("Alerts the senders left out of their notifications "
                                    "(truncatedAlerts: Alertmanager's max_alerts).")
                              .Register(*registry)
                              .Add({})) {
    for (const char* result : kWebhookResults) {
      webhook_by_result.emplace(result, &webhook_requests.Add({{"result", result}}));
    }
    for (const char* status : kWebhookStatuses) {
      webhook_by_status.emplace(status, &webhook_alerts.Add({{"status", status}}));
    }
    prometheus::BuildGauge()
        .Name("hotdata_monitor_build_info")
        .Help("Version and revision the monitor was built from; always 1.")
        .Register(*registry)
        .Add({{"version", kVersion}, {"revision", kRevision}})
        .Set(1);
    for (int i = 0; i < hotdata::kOperationCount; ++i) {
      const std::string name(hotdata::OperationName(static_cast<hotdata::Operation>(i)));
      duration_by_op[i] = &durations.Add({{"operation", name}}, kRequestBuckets);
    }
  }

  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& durations;
  prometheus::Gauge& reload_successful;
  prometheus::Gauge& reload_timestamp;
  prometheus::Counter& state_save_errors;
  prometheus::Family<prometheus::Counter>& webhook_requests;
  prometheus::Family<prometheus::Counter>& webhook_alerts;
  prometheus::Counter& webhook_truncated;
  // Every label value exists from the start (at 0); read-only after construction.
  std::map<std::string, prometheus::Counter*, std::less<>> webhook_by_result;
  std::map<std::string, prometheus::Counter*, std::less<>> webhook_by_status;
  std::array<prometheus::Histogram*, hotdata::kOperationCount> duration_by_op{};

  std::mutex mu;
  // The requests_total child of each (operation, code) seen so far. Guarded by mu.
  std::array<std::map<std::string, prometheus::Counter*, std::less<>>, hotdata::kOperationCount>
      request_by_op_code;
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::OnRequest(hotdata::Operation op, std::string_view code, double seconds) {
  const auto index = static_cast<size_t>(op);
  if (index >= impl_->duration_by_op.size()) return;
  impl_->duration_by_op[index]->Observe(seconds);
  prometheus::Counter* counter;
  {
    std::lock_guard lock(impl_->mu);
    auto& by_code = impl_->request_by_op_code[index];
    auto it = by_code.find(code);
    if (it == by_code.end()) {
      std::string label(code);
      prometheus::Counter& added = impl_->requests.Add(
          {{"operation", std::string(hotdata::OperationName(op))}, {"code", label}});
      it = by_code.emplace(std::move(label), &added).first;
    }
    counter = it->second;
  }
  counter->Increment();
}

void Metrics::SetConfigReload(bool successful, SysTime when) {
  impl_->reload_successful.Set(successful ? 1 : 0);
  if (successful) impl_->reload_timestamp.Set(metrics::UnixSeconds(when));
}

void Metrics::CountStateSaveError() { impl_->state_save_errors.Increment(); }

void Metrics::CountWebhookRequest(std::string_view result) {
  if (auto it = impl_->webhook_by_result.find(result); it != impl_->webhook_by_result.end()) {
    it->second->Increment();
  }
}

void Metrics::CountWebhookAlerts(std::string_view status, uint64_t count) {
  if (auto it = impl_->webhook_by_status.find(status); it != impl_->webhook_by_status.end()) {
    it->second->Increment(static_cast<double>(count));
  }
}

void Metrics::CountWebhookTruncated(uint64_t count) {
  impl_->webhook_truncated.Increment(static_cast<double>(count));
}

namespace {

void AppendTableMaxAge(std::string& out, const FleetSnapshot& snapshot, const PolicyCounters& p) {
  metrics::FamilyWriter w(
      out, {"hotdata_table_max_age_seconds",
            "Age of the last sync after which a table of the tables: list is stale: the smallest "
            "max_age of the table_stale policies that match its connection, or 86400 (1d) when "
            "none does.",
            "gauge"});
  for (const TableState& t : snapshot.tables) {
    // snapshot.connections is sorted by id.
    auto it = std::lower_bound(
        snapshot.connections.begin(), snapshot.connections.end(), t.connection_id,
        [](const ConnectionState& c, const std::string& id) { return c.info.id < id; });
    hotdata::ConnectionInfo info{t.connection_id, t.connection_name, ""};
    if (it != snapshot.connections.end() && it->info.id == t.connection_id) info = it->info;
    std::string l = "{connection_id=\"";
    metrics::AppendLabelValue(l, t.connection_id);
    l += "\",connection=\"";
    metrics::AppendLabelValue(l, t.connection_name);
    l += "\",schema=\"";
    metrics::AppendLabelValue(l, t.schema);
    l += "\",table=\"";
    metrics::AppendLabelValue(l, t.table);
    l += "\"}";
    w.Sample(l, std::chrono::duration<double>(TableMaxAge(p.table_stale, info)).count());
  }
}

void AppendPolicyMetrics(std::string& out, const PolicyCounters& p) {
  auto label = [](std::string& l, const char* name, const std::string& v) {
    l += l.empty() ? "{" : ",";
    l += name;
    l += "=\"";
    metrics::AppendLabelValue(l, v);
    l += '"';
  };
  {
    metrics::FamilyWriter w(out, {"hotdata_policy_actions_total",
                                  "Purges decided by policies, by policy, action and result "
                                  "(success, failed, dry_run).",
                                  "counter"});
    for (const auto& [key, n] : p.actions) {
      std::string l;
      label(l, "policy", std::get<0>(key));
      label(l, "action", std::get<1>(key));
      label(l, "result", std::get<2>(key));
      w.Sample(l + "}", n);
    }
  }
  {
    metrics::FamilyWriter w(
        out, {"hotdata_policy_suppressed_total",
              "Purges held back by a safety, by policy and reason (cooldown, "
              "budget, outage_pause, maintenance, permanent_error, api_unreachable, state_lost).",
              "counter"});
    for (const auto& [key, n] : p.suppressed) {
      std::string l;
      label(l, "policy", key.first);
      label(l, "reason", key.second);
      w.Sample(l + "}", n);
    }
  }
  metrics::FamilyWriter(out, {"hotdata_policy_outage_pause",
                              "1 while every purge is held because too many connections are "
                              "unhealthy at once (an API-wide outage), else 0.",
                              "gauge"})
      .Sample("", p.outage_pause ? 1.0 : 0.0);
  metrics::FamilyWriter(out, {"hotdata_policy_state_lost",
                              "1 while every purge is held because the state file could not be "
                              "used; cleared by an operator or when the file ages out",
                              "gauge"})
      .Sample("", p.state_lost ? 1.0 : 0.0);
  metrics::FamilyWriter(out, {"hotdata_policy_budget_limit",
                              "Purges allowed in any sliding hour, all policies together "
                              "(safety.max_purges_per_hour).",
                              "gauge"})
      .Sample("", static_cast<double>(p.budget_limit));
  metrics::FamilyWriter(out, {"hotdata_policy_budget_remaining",
                              "Purges the hourly budget still allows now: the limit minus the "
                              "purges sent in the last hour, never below 0.",
                              "gauge"})
      .Sample("", static_cast<double>(p.budget_remaining));
}

}  // namespace

Millis TableMaxAge(const std::vector<PolicyCounters::TableStaleRule>& rules,
                   const hotdata::ConnectionInfo& connection) {
  std::optional<Millis> smallest;
  for (const auto& rule : rules) {
    if (!SelectorMatches(rule.match, connection)) continue;
    if (!smallest || rule.max_age < *smallest) smallest = rule.max_age;
  }
  return smallest.value_or(kDefaultTableMaxAge);
}

std::string Metrics::Render(const FleetSnapshot& snapshot, const PolicyCounters* policy) const {
  std::string out;
  metrics::AppendFleetMetrics(out, snapshot);
  if (policy) {
    AppendTableMaxAge(out, snapshot, *policy);
    AppendPolicyMetrics(out, *policy);
  }
  // A few hundred low-cardinality series: the stock serializer is fast enough here.
  std::ostringstream registry_text;
  prometheus::TextSerializer().Serialize(registry_text, impl_->registry->Collect());
  out += std::move(registry_text).str();
  metrics::AppendProcessMetrics(out);
  return out;
}

}  // namespace hdm
