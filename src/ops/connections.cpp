#include "ops/connections.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <istream>
#include <ostream>

#include "app/api_factory.h"
#include "app/commands.h"
#include "app/table.h"
#include "ops/subcommands.h"

namespace hdm::ops {
namespace {

// Who runs the command, for the audit log: the sudo caller when there is one.
std::string CurrentUser() {
  if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr && *sudo != '\0') return sudo;
  if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr) return pw->pw_name;
  return "uid " + std::to_string(::geteuid());
}

}  // namespace

int RunSubcommand(const OpsContext& ctx, const OpsOptions& o) {
  switch (o.command) {
    case Subcommand::kList:
      return RunList(ctx, o);
    case Subcommand::kGet:
      return RunGet(ctx, o);
    case Subcommand::kHealth:
      return RunHealth(ctx, o);
    case Subcommand::kPurge:
      return RunPurge(ctx, o);
    case Subcommand::kProfile:
      return RunProfile(ctx, o);
    case Subcommand::kCreate:
      return RunCreate(ctx, o);
    case Subcommand::kDelete:
      return RunDelete(ctx, o);
  }
  return kExitUsage;
}

int RunConnections(const CliOptions& cli, std::istream& in, std::ostream& out, std::ostream& err) {
  auto options = ParseOpsArgs(cli.connections_args, cli.config_path);
  if (!options) {
    err << "hotdata-monitor: " << options.error() << "\n";
    return kExitUsage;
  }
  if (options->help) {
    out << OpsUsageText();
    return kExitOk;
  }
  auto loaded = LoadConfigAndToken(options->config_path, err);
  if (!loaded) return kExitUsage;
  const Config* config = &loaded->config;
  const std::string* token = &loaded->token;
  const SystemClock clock;
  const ApiConfig api = config->api;
  const OpsContext ctx{.config = *config,
                       .make_api = [&] { return MakeApiClient(api, *token, nullptr); },
                       .in = in,
                       .out = out,
                       .err = err,
                       .clock = clock,
                       .color = StdoutWantsColor(),
                       .user = CurrentUser()};
  return RunSubcommand(ctx, *options);
}

}  // namespace hdm::ops
