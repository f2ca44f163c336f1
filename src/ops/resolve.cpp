#include "ops/resolve.h"

#include "app/cli.h"

namespace hdm::ops {

OpsError ApiFailure(const std::string& what, const hotdata::ApiError& error) {
  return OpsError{.exit_code = kExitNoAnswer, .message = what + ": " + error.ToString()};
}

std::expected<hotdata::ConnectionInfo, OpsError> Resolve(
    const std::vector<hotdata::ConnectionInfo>& connections, const std::string& ref) {
  std::vector<const hotdata::ConnectionInfo*> by_name;
  for (const auto& c : connections) {
    if (c.id == ref) return c;
    if (c.name == ref) by_name.push_back(&c);
  }
  if (by_name.size() == 1) return *by_name.front();
  if (by_name.empty()) {
    return std::unexpected(OpsError{.exit_code = kExitNoAnswer,
                                    .message = "no connection with id or name \"" + ref + "\""});
  }
  std::string message = "the name \"" + ref + "\" is ambiguous; give one of these ids:";
  for (const auto* c : by_name) message += "\n  " + c->id + "  " + c->name + "  " + c->source_type;
  return std::unexpected(OpsError{.exit_code = kExitUsage, .message = std::move(message)});
}

std::expected<std::vector<hotdata::ConnectionInfo>, OpsError> ResolveAll(
    hotdata::HotdataApi& api, const std::vector<std::string>& refs) {
  auto list = api.ListConnections();
  if (!list) return std::unexpected(ApiFailure("list connections", list.error()));
  std::vector<hotdata::ConnectionInfo> out;
  for (const std::string& ref : refs) {
    auto c = Resolve(*list, ref);
    if (!c) return std::unexpected(c.error());
    out.push_back(std::move(*c));
  }
  return out;
}

}  // namespace hdm::ops
