// The one-shot commands: --once and --check-config. Each returns the process exit code and
// writes its report to `out` and its errors to `err`.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "app/cli.h"
#include "config/config.h"

namespace hdm {

// What every command that talks to the API starts from: the config file and the token it names.
struct ConfigAndToken {
  Config config;
  std::string token;
};
// nullopt after writing why to `err`: the config's errors (file:line:col) or the token's
// problem (never the token). The caller exits with kExitUsage.
std::optional<ConfigAndToken> LoadConfigAndToken(const std::string& config_path, std::ostream& err);

int RunOnce(const CliOptions& cli, std::ostream& out, std::ostream& err);
int RunCheckConfig(const CliOptions& cli, std::ostream& out, std::ostream& err);

}  // namespace hdm
