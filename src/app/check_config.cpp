// --check-config: validate the file, then ask the API (briefly) what it would monitor and which
// policy matches what. An unreachable API is reported; a valid file still exits 0.
#include <chrono>
#include <ostream>

#include "app/alert_webhook.h"
#include "app/api_factory.h"
#include "app/commands.h"
#include "app/daemon.h"
#include "app/token.h"
#include "config/web_config.h"
#include "health/selection.h"

namespace hdm {
namespace {

constexpr auto kProbeTimeout = std::chrono::seconds(5);

std::string EventName(EventKind k) {
  switch (k) {
    case EventKind::kUnhealthy:
      return "unhealthy";
    case EventKind::kRecovered:
      return "recovered";
    case EventKind::kLatencyAbove:
      return "latency_above";
    case EventKind::kSchedule:
      return "schedule";
    case EventKind::kTableStale:
      return "table_stale";
    case EventKind::kTablesChanged:
      return "tables_changed";
    case EventKind::kAlert:
      return "alert";
  }
  return "?";
}

std::string ActionText(const PolicyConfig& p) {
  if (p.action.purge == PurgeKind::kConnection) return "purge the connection cache";
  if (p.action.tables.empty() && p.when.event == EventKind::kAlert) {
    return "purge the cache of the table the alert's schema and table labels name";
  }
  if (p.action.tables.empty()) return "purge the cache of the tables that triggered";
  std::string out = "purge the cache of";
  for (const auto& t : p.action.tables) out += " " + t.schema + "." + t.table;
  return out;
}

}  // namespace

int RunCheckConfig(const CliOptions& cli, std::ostream& out, std::ostream& err) {
  WebConfig web;
  auto config = LoadConfigAndWebConfig(cli.config_path, cli.web_config_file, &web);
  if (!config) {
    err << FormatConfigErrors(config.error());
    // The errors are the web config file's when the main one was valid.
    const std::string& file =
        config.error().empty() ? cli.config_path : config.error().front().file;
    err << file << ": " << config.error().size() << " error(s)\n";
    return kExitUsage;
  }
  out << cli.config_path << ": valid (" << config->policies.size() << " policies)\n";
  if (!cli.web_config_file.empty()) {
    out << cli.web_config_file << ": valid (" << web.Summary() << ")\n";
    for (const std::string& note : web.Notes()) out << note << "\n";
  }
  const std::string listen = cli.listen_address.value_or(config->server.listen);
  if (auto exposed = AlertWebhookExposure(*config, listen)) out << *exposed << "\n";
  if (cli.offline) {
    out << "API not asked: --offline\n";
    return kExitOk;
  }
  auto token = ReadToken(config->api);
  if (!token) {
    out << "API not asked: " << token.error() << "\n";
    return kExitOk;
  }
  ApiConfig api = config->api;
  api.timeout = std::min<Millis>(api.timeout, kProbeTimeout);
  api.retries.attempts = 1;
  auto client = MakeApiClient(api, *token, nullptr);
  auto list =
      client->ListConnections({.deadline = std::chrono::steady_clock::now() + kProbeTimeout});
  if (!list) {
    out << "API " << config->api.base_url << " not reachable: " << list.error().ToString() << "\n";
    return kExitOk;
  }
  std::vector<hotdata::ConnectionInfo> monitored;
  for (const auto& c : *list) {
    if (IsSelected(config->scheduler, c)) monitored.push_back(c);
  }
  out << "API " << config->api.base_url << ": " << list->size() << " connections, "
      << monitored.size() << " monitored by this instance\n";
  for (const auto& p : config->policies) {
    std::vector<std::string> names;
    for (const auto& c : monitored) {
      if (SelectorMatches(p.match, c)) names.push_back(c.name);
    }
    const bool dry = p.dry_run || config->safety.dry_run || cli.dry_run;
    out << "policy " << p.name << ": on " << EventName(p.when.event) << ", " << ActionText(p)
        << (dry ? " (dry run)" : "") << "; matches " << names.size() << " connection(s)";
    for (size_t i = 0; i < names.size() && i < 20; ++i) out << (i ? ", " : ": ") << names[i];
    if (names.size() > 20) out << ", ...";
    out << "\n";
  }
  return kExitOk;
}

}  // namespace hdm
