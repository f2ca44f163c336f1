// Why the monitor's HTTP server could not listen: cpp-httplib reports a failed bind without its
// errno, so the daemon binds a socket of its own to the same address to name the cause at start.
#pragma once

#include <optional>
#include <string>

namespace hdm {

// The cause of a failed listen on `listen` ("host:port"), e.g. "Address already in use",
// "Permission denied" or "Cannot assign requested address", found by binding and listening there
// as the server does. nullopt when that works now: the failure had another cause.
std::optional<std::string> ListenProblem(const std::string& listen);

}  // namespace hdm
