// The JSON body of GET /api/v1/status. Never contains the API token (it never reaches the
// snapshot).
#pragma once

#include <string>

#include "health/connection_state.h"

namespace hdm {

std::string RenderStatusJson(const FleetSnapshot& snapshot);

}  // namespace hdm
