// Metrics: every metric family of the monitor, declared in one place, and the text exposition
// (format 0.0.4) of /metrics.
//
// Per-connection series are not kept in a prometheus-cpp registry: they are rendered straight
// from a FleetSnapshot on each scrape, so a connection that left the fleet simply stops being
// rendered and the cost is one pass over the snapshot. Low-cardinality families (API requests,
// build info, reload status) live in a prometheus-cpp registry and are serialized after them.
//
// Thread-safe: OnRequest() is called by every worker, Render() by the HTTP server threads.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "config/config.h"
#include "health/connection_state.h"
#include "hotdata/api.h"

namespace hdm {

// What the policy engine reports, rendered as hotdata_policy_*. Plain values so that metrics
// does not depend on the engine.
struct PolicyCounters {
  // (policy, action, result) -> count; result is success|failed|dry_run.
  std::map<std::tuple<std::string, std::string, std::string>, uint64_t> actions;
  // (policy, reason) -> count.
  std::map<std::pair<std::string, std::string>, uint64_t> suppressed;
  bool outage_pause = false;
  bool state_lost = false;  // hotdata_policy_state_lost
  // safety.max_purges_per_hour, and the purges it still allows in the sliding hour now.
  int64_t budget_limit = 0;
  int64_t budget_remaining = 0;
  // The table_stale policies, for hotdata_table_max_age_seconds of each table of the snapshot.
  struct TableStaleRule {
    Selector match;
    Millis max_age{0};
  };
  std::vector<TableStaleRule> table_stale;
};

// hotdata_table_max_age_seconds when no table_stale policy matches a table's connection: one day.
inline constexpr Millis kDefaultTableMaxAge = std::chrono::hours(24);

// The smallest max_age of the rules whose match selects `connection` (the policies the engine
// judges that table by), or kDefaultTableMaxAge when none does.
Millis TableMaxAge(const std::vector<PolicyCounters::TableStaleRule>& rules,
                   const hotdata::ConnectionInfo& connection);

class Metrics final : public hotdata::RequestObserver {
 public:
  Metrics();
  ~Metrics() override;

  // hotdata_api_requests_total{operation,code} and hotdata_api_request_duration_seconds.
  // Cheap and thread-safe; an operation outside hotdata::Operation is ignored.
  void OnRequest(hotdata::Operation op, std::string_view code, double seconds) override;

  // hotdata_monitor_config_last_reload_successful and ..._success_timestamp_seconds; the
  // timestamp moves only when `successful`. Call it for the initial load too. Thread-safe.
  void SetConfigReload(bool successful, SysTime when);

  // hotdata_monitor_state_save_errors_total: one failed save of the state file. Thread-safe.
  void CountStateSaveError();

  // hotdata_webhook_requests_total{result}: result is ok, bad_request, too_large or unavailable
  // (others are ignored). hotdata_webhook_alerts_total{status}: firing or resolved.
  // hotdata_webhook_alerts_truncated_total. Thread-safe.
  void CountWebhookRequest(std::string_view result);
  void CountWebhookAlerts(std::string_view status, uint64_t count);
  void CountWebhookTruncated(uint64_t count);

  // The whole exposition: fleet series from `snapshot`, the registry's families, process_*.
  // Each family appears once with HELP and TYPE, its series contiguous. Thread-safe.
  // `policy` null: no policy engine runs, no hotdata_policy_* (nor hotdata_table_max_age_seconds)
  // series.
  std::string Render(const FleetSnapshot& snapshot, const PolicyCounters* policy = nullptr) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hdm
