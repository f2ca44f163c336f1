#include "ops/state_command.h"

#include <ostream>

#include "app/daemon.h"  // FormatConfigErrors
#include "common/time_format.h"
#include "config/config.h"
#include "ops/purge_guard.h"

namespace hdm::ops {

std::string StateUsageText() {
  return R"(Usage: hotdata-monitor [--config PATH] state clear-hold

  clear-hold    end the hold of every purge (reason state_lost) that the daemon began when its
                state file could not be used (corrupt, or of a version it can neither read nor
                migrate: its cooldowns and budget were lost). Check first that no purge storm
                can follow: the set-aside file (state.json.corrupt-* or state.json.v<N>-*) shows
                what was in cooldown. The running daemon resumes purges within a second; without
                this the hold ends by itself once the longest cooldown and the budget's hour have
                passed since the file's last save.

Flags: --config PATH (the monitor's config, default /etc/hotdata-monitor/config.yaml), --help.
Exit codes: 0 cleared, or nothing was held; 2 usage or configuration error, or the state file
could not be read or written.
)";
}

int RunStateCommand(const std::vector<std::string>& args, const std::string& config_path,
                    const Clock& clock, std::ostream& out, std::ostream& err) {
  std::string path = config_path;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out << StateUsageText();
      return kExitOk;
    }
    if (arg == "--config" || arg == "--config.file") {
      if (i + 1 >= args.size()) {
        err << "hotdata-monitor: " << arg << " needs a value\n";
        return kExitUsage;
      }
      path = args[++i];
    } else if (arg.starts_with("--config=") || arg.starts_with("--config.file=")) {
      path = arg.substr(arg.find('=') + 1);
    } else if (arg.starts_with("-")) {
      err << "hotdata-monitor: state: unknown flag \"" << arg << "\" (see --help)\n";
      return kExitUsage;
    } else {
      positional.push_back(arg);
    }
  }
  if (positional != std::vector<std::string>{"clear-hold"}) {
    err << "hotdata-monitor: state: expected the subcommand clear-hold (see --help)\n";
    return kExitUsage;
  }
  auto config = LoadConfig(path);
  if (!config) {
    err << FormatConfigErrors(config.error());
    return kExitUsage;
  }
  const std::string& state_path = config->state_file;
  if (state_path.empty()) {
    out << "no state_file is configured: nothing is held\n";
    return kExitOk;
  }
  std::optional<policy::StateLostHold> cleared;
  auto updated = UpdateSharedState(state_path, clock.Now(), [&](SharedState& shared) {
    if (!shared.policy.state_lost) return false;
    cleared = shared.policy.state_lost;
    // The daemon that holds it ends its hold when it reads its `since` here.
    shared.policy.state_lost_cleared = cleared->since;
    shared.policy.state_lost.reset();
    return true;
  });
  if (!updated) {
    err << "hotdata-monitor: state file: " << updated.error() << "\n";
    return kExitUsage;
  }
  if (!cleared) {
    out << state_path << ": no purge is held (state_lost): nothing to clear\n";
    return kExitOk;
  }
  out << state_path << ": cleared the hold of every purge that began at "
      << FormatRfc3339(cleared->since) << " (" << cleared->why << ")"
      << (cleared->file.empty() ? std::string() : "; the unusable file is " + cleared->file)
      << ". A running daemon resumes purges within a second.\n";
  return kExitOk;
}

int RunState(const CliOptions& cli, std::ostream& out, std::ostream& err) {
  const SystemClock clock;
  return RunStateCommand(cli.state_args, cli.config_path, clock, out, err);
}

}  // namespace hdm::ops
