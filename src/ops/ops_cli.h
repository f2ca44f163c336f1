// The arguments of `hotdata-monitor connections SUBCOMMAND ...` (see OpsUsageText()).
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <vector>

namespace hdm::ops {

enum class Subcommand { kList, kGet, kHealth, kPurge, kProfile, kCreate, kDelete };

struct OpsOptions {
  Subcommand command = Subcommand::kList;
  std::vector<std::string> refs;  // ID|NAME arguments (get, health, purge, profile, delete)
  std::string config_path;        // the monitor's config
  bool json = false;              // --output json
  bool yes = false;               // --yes: no confirmation prompt
  bool force = false;             // --force: past the purge safeties
  bool help = false;
  std::optional<std::string> table;  // purge --table / profile's schema.table, as given
  // create
  std::string name;
  std::string source_type;
  std::string connection_config_path;
  std::optional<std::string> secret_name;
  std::optional<std::string> secret_id;
  bool skip_discovery = false;
};

// `args` are those after "connections"; `config_path` is the monitor's config given before it
// (or the default). After the subcommand `--config PATH` names the monitor's config too, except
// for `create`, where it is the new connection's config file. The error is a one-line usage
// message.
std::expected<OpsOptions, std::string> ParseOpsArgs(const std::vector<std::string>& args,
                                                    const std::string& config_path);

std::string OpsUsageText();

}  // namespace hdm::ops
