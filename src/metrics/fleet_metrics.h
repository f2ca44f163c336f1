// The per-connection (hotdata_connection_*) and monitor-level (hotdata_monitor_*) families,
// rendered straight from a FleetSnapshot. Pure functions of the snapshot; thread-safe.
#pragma once

#include <string>

#include "health/connection_state.h"

namespace hdm::metrics {

// Appends every per-connection family, then the monitor-level families drawn from the snapshot.
// A series whose value is not known yet (no health answer, no check, ...) is omitted, and a
// family with no series is omitted altogether. Connections appear in snapshot order.
void AppendFleetMetrics(std::string& out, const FleetSnapshot& snapshot);

}  // namespace hdm::metrics
