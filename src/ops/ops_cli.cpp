#include "ops/ops_cli.h"

#include <map>
#include <set>
#include <string_view>

namespace hdm::ops {
namespace {

const std::map<std::string, Subcommand, std::less<>>& Subcommands() {
  static const std::map<std::string, Subcommand, std::less<>> kNames = {
      {"list", Subcommand::kList},       {"get", Subcommand::kGet},
      {"health", Subcommand::kHealth},   {"purge", Subcommand::kPurge},
      {"profile", Subcommand::kProfile}, {"create", Subcommand::kCreate},
      {"delete", Subcommand::kDelete}};
  return kNames;
}

// The flags each subcommand takes, besides --config and --help.
std::set<std::string_view> FlagsOf(Subcommand c) {
  switch (c) {
    case Subcommand::kList:
    case Subcommand::kGet:
    case Subcommand::kHealth:
    case Subcommand::kProfile:
      return {"--output"};
    case Subcommand::kPurge:
      return {"--table", "--yes", "--force"};
    case Subcommand::kCreate:
      return {"--output",      "--name",      "--source-type",
              "--secret-name", "--secret-id", "--skip-discovery"};
    case Subcommand::kDelete:
      return {"--yes"};
  }
  return {};
}

// How many ID|NAME arguments: [min, max] (max -1: any).
std::pair<int, int> RefsOf(Subcommand c) {
  switch (c) {
    case Subcommand::kList:
    case Subcommand::kCreate:
      return {0, 0};
    case Subcommand::kHealth:
      return {0, -1};
    case Subcommand::kProfile:
      return {2, 2};  // ID|NAME schema.table
    case Subcommand::kGet:
    case Subcommand::kPurge:
    case Subcommand::kDelete:
      return {1, 1};
  }
  return {0, 0};
}

}  // namespace

std::string OpsUsageText() {
  return R"(Usage: hotdata-monitor [--config PATH] connections SUBCOMMAND [args] [flags]

Looks at and acts on the workspace's connections with the daemon's config and token.
ID|NAME is a connection id, or a name that the list resolves to exactly one id.

  list [--output json]                 id, name, source type, tables, synced tables
  get ID|NAME [--output json]
  health [ID|NAME...] [--output json]  all connections when none is given
  purge ID|NAME [--table SCHEMA.TABLE] [--yes] [--force]
                                       asks for confirmation unless --yes; refused within the
                                       daemon's cooldowns, hourly budget, maintenance windows and
                                       permanent marks unless --force; recorded in the state file
                                       and the daemon's audit log
  profile ID|NAME SCHEMA.TABLE [--output json]
  create --name N --source-type T --config FILE.(json|yaml) [--secret-name S | --secret-id S]
         [--skip-discovery] [--output json]
                                       here --config is the connection's config: give the
                                       monitor's config before "connections"
  delete ID|NAME [--yes]               asks for confirmation unless --yes

Flags: --config PATH (the monitor's config, default /etc/hotdata-monitor/config.yaml), --help.
A table is schema.table, split at the first dot.

Exit codes: 0 success; 1 (health) a connection answered unhealthy; 2 usage or configuration
error, or an ambiguous name; 3 an API error (its code and message are printed), no valid answer,
or no such connection; 4 (purge, delete) refused by a safety or not confirmed: nothing was done.
)";
}

std::expected<OpsOptions, std::string> ParseOpsArgs(const std::vector<std::string>& args,
                                                    const std::string& config_path) {
  OpsOptions o;
  o.config_path = config_path;
  std::optional<Subcommand> command;
  std::string command_name;
  std::vector<std::pair<std::string, std::optional<std::string>>> flags;  // in order
  std::vector<std::string> positional;
  static const std::set<std::string_view> kValued = {
      "--config", "--output", "--table", "--name", "--source-type", "--secret-name", "--secret-id"};
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--") {
      positional.insert(positional.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                        args.end());
      break;
    }
    if (!arg.starts_with("-") || arg == "-") {
      if (!command) {
        auto it = Subcommands().find(arg);
        if (it == Subcommands().end()) {
          return std::unexpected("connections: unknown subcommand \"" + arg +
                                 "\" (list, get, health, purge, profile, create, delete)");
        }
        command = it->second;
        command_name = arg;
      } else {
        positional.push_back(arg);
      }
      continue;
    }
    std::optional<std::string> value;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if (arg == "-h") arg = "--help";
    if (kValued.contains(arg)) {
      if (!value) {
        if (i + 1 >= args.size()) return std::unexpected(arg + " needs a value");
        value = args[++i];
      }
    } else if (value) {
      return std::unexpected(arg + " takes no value");
    }
    flags.emplace_back(arg, value);
  }
  for (const auto& [flag, value] : flags) {
    if (flag == "--help") o.help = true;
  }
  if (o.help) return o;
  if (!command) return std::unexpected("connections: a subcommand is missing (see --help)");
  o.command = *command;
  const std::set<std::string_view> allowed = FlagsOf(o.command);
  for (const auto& [flag, value] : flags) {
    if (flag == "--config") {
      (o.command == Subcommand::kCreate ? o.connection_config_path : o.config_path) = *value;
      continue;
    }
    if (!allowed.contains(flag)) {
      return std::unexpected("connections " + command_name + ": unknown flag \"" + flag +
                             "\" (see --help)");
    }
    if (flag == "--output") {
      if (*value != "json" && *value != "table") {
        return std::unexpected("--output: expected table or json, got \"" + *value + "\"");
      }
      o.json = *value == "json";
    } else if (flag == "--table") {
      o.table = *value;
    } else if (flag == "--yes") {
      o.yes = true;
    } else if (flag == "--force") {
      o.force = true;
    } else if (flag == "--name") {
      o.name = *value;
    } else if (flag == "--source-type") {
      o.source_type = *value;
    } else if (flag == "--secret-name") {
      o.secret_name = *value;
    } else if (flag == "--secret-id") {
      o.secret_id = *value;
    } else if (flag == "--skip-discovery") {
      o.skip_discovery = true;
    }
  }
  const auto [min_refs, max_refs] = RefsOf(o.command);
  const int n = static_cast<int>(positional.size());
  if (n < min_refs || (max_refs >= 0 && n > max_refs)) {
    switch (o.command) {
      case Subcommand::kProfile:
        return std::unexpected("connections profile: expected ID|NAME SCHEMA.TABLE");
      case Subcommand::kList:
      case Subcommand::kCreate:
        return std::unexpected("connections: unexpected argument \"" + positional.front() + "\"");
      default:
        return std::unexpected("connections: expected exactly one ID|NAME");
    }
  }
  if (o.command == Subcommand::kProfile) {
    o.table = positional.back();
    positional.pop_back();
  }
  o.refs = std::move(positional);
  if (o.table && (o.table->find('.') == std::string::npos || o.table->front() == '.' ||
                  o.table->back() == '.')) {
    return std::unexpected("expected a table as SCHEMA.TABLE, got \"" + *o.table + "\"");
  }
  if (o.command == Subcommand::kCreate) {
    if (o.name.empty()) return std::unexpected("connections create: --name is required");
    if (o.source_type.empty())
      return std::unexpected("connections create: --source-type is required");
    if (o.connection_config_path.empty())
      return std::unexpected("connections create: --config FILE.(json|yaml) is required");
    if (o.secret_name && o.secret_id)
      return std::unexpected(
          "connections create: --secret-name and --secret-id exclude each other");
  }
  return o;
}

}  // namespace hdm::ops
