// The status page at GET /: what an operator sees of the workspace in a browser. A pure renderer:
// a PageData in, HTML out, no I/O and no clock (every age is measured against PageData::now).
//
// The page reads fully without JavaScript. Its live part (the block with id "live": counts,
// safety, connections, decisions) is also rendered alone as a fragment, which /status.js
// (assets.h) fetches every few seconds and swaps in place. Every string that comes from the API
// or the config is HTML-escaped; the page carries no inline script or style, so that the
// Content-Security-Policy of assets.h (nothing but the page's own origin) holds.
//
// At most PageOptions::healthy_cap connections that are not unhealthy are listed (the rest are
// counted and reached through the filter); every unhealthy one is listed. Thread-safe (no state).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "health/connection_state.h"

namespace hdm::statuspage {

// One entry of the audit log, as the page shows it.
struct DecisionRow {
  SysTime time{};
  std::string policy;   // empty for the state_lost hold's start and end
  std::string target;   // "prod-pg (conn_1)" or "... table public.orders"; may be empty
  std::string outcome;  // success, failed, dry_run, suppressed, unknown, hold_started, hold_ended
  std::string reason;   // the suppression's reason (cooldown, budget, ...); empty otherwise
  std::string detail;   // the trigger, the suppression's specifics or the API's error
};

// The safety state of the policy engine, as product.md's "Safety" lists it.
struct SafetyState {
  bool has_policies = false;  // false: the block says that no policy is configured
  int64_t budget_remaining = 0;
  int64_t budget_limit = 0;
  bool outage_pause = false;
  bool state_lost = false;  // every purge held: the state file could not be used
  bool dry_run = false;     // safety.dry_run or --dry-run
  std::vector<std::string> maintenance_in_force;  // "CRON until RFC3339", one per window
};

struct PageData {
  SysTime now{};  // ages are measured from here
  std::string version;
  std::string workspace;          // api.workspace_id; may be empty
  std::chrono::seconds uptime{};  // of the daemon
  FleetSnapshot fleet;
  SafetyState safety;
  std::vector<DecisionRow> decisions;  // most recent first
};

struct PageOptions {
  // Only connections whose every whitespace-separated term (case-insensitive) is part of the
  // name, id or source type, or is the status word (healthy, unhealthy, unknown, failing).
  std::string filter;
  size_t healthy_cap = 200;  // connections listed besides the unhealthy ones
  size_t decisions = 25;     // latest decisions listed
};

// The whole document.
std::string RenderPage(const PageData& data, const PageOptions& options);
// The live block alone (a <div id="live">), which the script swaps in.
std::string RenderLive(const PageData& data, const PageOptions& options);

// How often the script refreshes, in seconds: the check interval, within 2 to 10 seconds.
int RefreshSeconds(const FleetSnapshot& fleet);

// The status word of a connection: "unhealthy" or "healthy" as the API last answered, else
// "unknown" (no answer yet).
std::string_view StatusWord(const ConnectionState& c);
// Whether `c` passes `filter` (PageOptions::filter).
bool MatchesFilter(const ConnectionState& c, std::string_view filter);

}  // namespace hdm::statuspage
