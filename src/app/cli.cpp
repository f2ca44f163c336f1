#include "app/cli.h"

#include <cstddef>
#include <string_view>
#include <vector>

#include "common/version.h"
#include "config/config_sections.h"

namespace hdm {

std::string UsageText() {
  return R"(Usage: hotdata-monitor [flags]
       hotdata-monitor [--config PATH] connections list|get|health|purge|profile|create|delete ...
       hotdata-monitor [--config PATH] state clear-hold

Watches every connection of a Hotdata workspace, exports Prometheus metrics and purges caches
as its policies say.

Flags (the Prometheus exporters' spellings work too: --config.file, --log.level, --log.format):
  --config PATH            config file (default /etc/hotdata-monitor/config.yaml)
  --web.listen-address ADDR
                           host:port to serve on, instead of the config's server.listen
  --web.config.file PATH   TLS, basic auth users and response headers of the server, in the
                           Prometheus exporters' web config format (tls_server_config,
                           basic_auth_users, http_server_config.headers); re-read at reload
  --check-config           validate the config and every policy, then ask the API what would be
                           monitored and which policy matches what; exit 0 when the file is valid
  --offline                with --check-config: check the files only, read no token and ask no
                           API (the unit's ExecReload runs this before it signals the daemon)
  --once                   one discovery and one health round, a table on stdout; exit 0 all
                           healthy, 1 a connection answered unhealthy, 3 no valid answer
  --dry-run                force every policy into dry-run (log and count, never purge)
  --log-level LEVEL        trace|debug|info|warn|error (default info)
  --log-format FORMAT      text|json (default text)
  --version                print the version and exit
  --help                   print this help and exit

Operator command line (`hotdata-monitor connections --help` for details): list, get, health,
purge, profile, create and delete the workspace's connections with the daemon's config and token.
`hotdata-monitor state clear-hold` ends the hold of every purge that a state file the daemon
could not use began (`hotdata-monitor state --help`).

Exit codes: 0 success, 1 unhealthy (--once, connections health), 2 usage or configuration error,
3 no valid answer (or an API error), 4 (connections purge/delete) refused or not confirmed.
)";
}

std::string VersionText() {
  return std::string("hotdata-monitor ") + kVersion + " (revision " + kRevision + ")\n";
}

std::expected<CliOptions, std::string> ParseCli(int argc, char** argv) {
  CliOptions o;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    std::string_view value;
    bool has_value = false;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    auto take_value = [&]() -> std::expected<std::string, std::string> {
      if (has_value) return std::string(value);
      if (i + 1 >= args.size()) return std::unexpected(std::string(arg) + " needs a value");
      return std::string(args[++i]);
    };
    auto no_value = [&](bool& flag) -> std::expected<void, std::string> {
      if (has_value) return std::unexpected(std::string(arg) + " takes no value");
      flag = true;
      return {};
    };
    std::expected<void, std::string> ok;
    if (arg == "connections" && !has_value) {
      o.connections = true;
      o.connections_args.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    } else if (arg == "state" && !has_value) {
      o.state = true;
      o.state_args.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    } else if (arg == "--config" || arg == "-c" || arg == "--config.file") {
      auto v = take_value();
      if (!v) return std::unexpected(v.error());
      o.config_path = *v;
    } else if (arg == "--web.listen-address") {
      auto v = take_value();
      if (!v) return std::unexpected(v.error());
      if (auto problem = config_internal::ListenProblem(*v)) {
        return std::unexpected("--web.listen-address: " + *problem);
      }
      o.listen_address = *v;
    } else if (arg == "--web.config.file") {
      auto v = take_value();
      if (!v) return std::unexpected(v.error());
      if (v->empty()) return std::unexpected("--web.config.file needs a file name");
      o.web_config_file = *v;
    } else if (arg == "--log-level" || arg == "--log.level") {
      auto v = take_value();
      if (!v) return std::unexpected(v.error());
      o.log_level = *v;
    } else if (arg == "--log-format" || arg == "--log.format") {
      auto v = take_value();
      if (!v) return std::unexpected(v.error());
      if (*v == "text") {
        o.log_format = LogFormat::kText;
      } else if (*v == "json") {
        o.log_format = LogFormat::kJson;
      } else {
        return std::unexpected(std::string(arg) + ": expected text or json, got \"" + *v + "\"");
      }
    } else if (arg == "--check-config") {
      ok = no_value(o.check_config);
    } else if (arg == "--offline") {
      ok = no_value(o.offline);
    } else if (arg == "--once") {
      ok = no_value(o.once);
    } else if (arg == "--dry-run") {
      ok = no_value(o.dry_run);
    } else if (arg == "--version") {
      ok = no_value(o.version);
    } else if (arg == "--help" || arg == "-h") {
      ok = no_value(o.help);
    } else {
      return std::unexpected("unknown flag \"" + std::string(arg) + "\" (see --help)");
    }
    if (!ok) return std::unexpected(ok.error());
  }
  if (o.offline && !o.check_config) return std::unexpected("--offline goes with --check-config");
  if (o.check_config && o.once)
    return std::unexpected("--check-config and --once exclude each other");
  if (o.connections && (o.check_config || o.once || o.dry_run))
    return std::unexpected("connections excludes --check-config, --once and --dry-run");
  if (o.state && (o.check_config || o.once || o.dry_run))
    return std::unexpected("state excludes --check-config, --once and --dry-run");
  return o;
}

}  // namespace hdm
