// Command-line flags of hotdata-monitor (see --help).
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <vector>

#include "app/logging.h"

namespace hdm {

struct CliOptions {
  std::string config_path = "/etc/hotdata-monitor/config.yaml";
  bool check_config = false;
  bool offline = false;  // --check-config without reading the token or asking the API
  bool once = false;
  bool dry_run = false;
  bool version = false;
  bool help = false;
  std::optional<std::string> listen_address;  // --web.listen-address: wins over server.listen
  std::string web_config_file;  // --web.config.file (config/web_config.h); empty: none
  std::string log_level = "info";
  LogFormat log_format = LogFormat::kText;
  // `hotdata-monitor [flags] connections ...`: everything after "connections", parsed by
  // src/ops (ParseOpsArgs). Set: run the operator command line instead of the daemon.
  bool connections = false;
  std::vector<std::string> connections_args;
  // `hotdata-monitor [flags] state ...`: everything after "state" (src/ops/state_command.h).
  bool state = false;
  std::vector<std::string> state_args;
};

// Accepts `--flag value` and `--flag=value`. The error is a one-line usage message.
std::expected<CliOptions, std::string> ParseCli(int argc, char** argv);

std::string UsageText();
std::string VersionText();

// Exit codes, everywhere.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUnhealthy = 1;  // --once: a connection answered unhealthy
// The daemon could not start for a cause that may pass (listen address in use or not yet there,
// state lock held): systemd's Restart=on-failure tries again.
inline constexpr int kExitStartRetryable = 1;
inline constexpr int kExitUsage = 2;     // usage or configuration error
inline constexpr int kExitNoAnswer = 3;  // --once: the list or a check got no valid answer;
                                         // connections: an API error or no valid answer
inline constexpr int kExitNotDone = 4;   // connections purge/delete: refused by a safety or
                                         // not confirmed; nothing was done

}  // namespace hdm
