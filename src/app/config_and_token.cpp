#include <ostream>

#include "app/commands.h"
#include "app/daemon.h"  // FormatConfigErrors
#include "app/token.h"

namespace hdm {

std::optional<ConfigAndToken> LoadConfigAndToken(const std::string& config_path,
                                                 std::ostream& err) {
  auto config = LoadConfig(config_path);
  if (!config) {
    err << FormatConfigErrors(config.error());
    return std::nullopt;
  }
  auto token = ReadToken(config->api);
  if (!token) {
    err << "hotdata-monitor: " << token.error() << "\n";
    return std::nullopt;
  }
  return ConfigAndToken{.config = std::move(*config), .token = std::move(*token)};
}

}  // namespace hdm
