// The status page's data, gathered from the running daemon's parts (the scheduler's snapshot,
// the policy service, the config in force). Thread-safe: each part it reads is.
#pragma once

#include <chrono>
#include <cstddef>

#include "common/clock.h"
#include "config/config.h"
#include "health/connection_state.h"
#include "policy/policy_service.h"
#include "statuspage/status_page.h"

namespace hdm {

// `fleet` taken now; `decisions` of the newest audit entries at most. Never holds the API token
// (neither the snapshot nor the audit log has it).
statuspage::PageData CollectStatusPage(FleetSnapshot fleet, const policy::PolicyService& policy,
                                       const Config& config, SysTime now,
                                       std::chrono::seconds uptime, size_t decisions);

}  // namespace hdm
