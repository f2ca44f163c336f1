// ID|NAME arguments to connections, through list_connections.
#pragma once

#include <expected>
#include <string>
#include <vector>

#include "hotdata/api.h"
#include "ops/context.h"

namespace hdm::ops {

// The connection whose id is `ref`, else the one whose name is `ref`. No match: exit 3
// ("no connection with id or name ..."); several names: exit 2, listing every candidate's id;
// a failed list: exit 3 with the API's error.
std::expected<hotdata::ConnectionInfo, OpsError> Resolve(
    const std::vector<hotdata::ConnectionInfo>& connections, const std::string& ref);

// Lists the connections once and resolves each of `refs`, in order.
std::expected<std::vector<hotdata::ConnectionInfo>, OpsError> ResolveAll(
    hotdata::HotdataApi& api, const std::vector<std::string>& refs);

// "list connections: HTTP 401 ...": the API error as an OpsError (exit 3).
OpsError ApiFailure(const std::string& what, const hotdata::ApiError& error);

}  // namespace hdm::ops
