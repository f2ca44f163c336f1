// When a maintenance window of safety.maintenance is in force. The policy engine, the operator
// command line's purge guard and the status page all ask this one function, so that they agree.
#pragma once

#include <optional>

#include "common/clock.h"
#include "config/config.h"

namespace hdm {

// The end of `window`'s occurrence that is in force at `now` (one that started within the last
// `window.duration`: [start, start + duration)), or nullopt when none is. Thread-safe.
std::optional<SysTime> MaintenanceWindowEnd(const MaintenanceWindow& window, SysTime now);

}  // namespace hdm
