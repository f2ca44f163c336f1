// The JSON body of GET /api/v1/status. Never contains the API token (it never reaches the
// snapshot).
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "health/connection_state.h"

namespace hdm {

// `policies(id)`, when given, is added to each connection as "policies".
std::string RenderStatusJson(
    const FleetSnapshot& snapshot,
    const std::function<nlohmann::json(const std::string& connection_id)>& policies = {});

}  // namespace hdm
