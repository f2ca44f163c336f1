// --once: one discovery and one health round through the same scheduler the daemon runs.
#include <ostream>
#include <thread>

#include "app/api_factory.h"
#include "app/commands.h"
#include "app/table.h"
#include "health/executor.h"
#include "health/scheduler.h"

namespace hdm {
namespace {

std::string FormatLatency(const ConnectionState& s) {
  if (!s.latency_seconds) return "-";
  return std::to_string(static_cast<int64_t>(*s.latency_seconds * 1000 + 0.5)) + "ms";
}

int PrintRound(const FleetSnapshot& snap, std::ostream& out) {
  bool any_unhealthy = false;
  bool any_failed = false;
  std::vector<std::vector<Cell>> rows;
  for (const auto& s : snap.connections) {
    Cell health{"-", CellColor::kYellow};
    if (s.checked && s.check_success && s.healthy) {
      health = *s.healthy ? Cell{"healthy", CellColor::kGreen} : Cell{"UNHEALTHY", CellColor::kRed};
      if (!*s.healthy) any_unhealthy = true;
    } else {
      health = {"NO ANSWER", CellColor::kYellow};
      any_failed = true;
    }
    std::string detail = s.check_success ? s.last_answer_error : s.last_check_error;
    rows.push_back({{s.info.name},
                    {s.info.id},
                    {s.info.source_type},
                    health,
                    {s.check_success ? FormatLatency(s) : "-"},
                    {detail}});
  }
  PrintTable(out, {"NAME", "ID", "SOURCE", "STATUS", "LATENCY", "ERROR"}, rows, StdoutWantsColor());
  out << snap.connections.size() << " connections checked in "
      << static_cast<int64_t>(snap.last_round_duration_seconds * 1000) << "ms\n";
  if (any_unhealthy) return kExitUnhealthy;
  if (any_failed) return kExitNoAnswer;
  return kExitOk;
}

}  // namespace

int RunOnce(const CliOptions& cli, std::ostream& out, std::ostream& err) {
  auto loaded = LoadConfigAndToken(cli.config_path, err);
  if (!loaded) return kExitUsage;
  const Config* config = &loaded->config;
  const std::string* token = &loaded->token;
  SystemClock clock;
  const ApiConfig api = config->api;
  WorkerPool pool(config->scheduler.concurrency,
                  [&] { return MakeApiClient(api, *token, nullptr); });
  Scheduler scheduler(clock, pool, config->scheduler);
  // A deadline well past what one round may take: the list, then every check within its
  // interval, each with its retries.
  const auto deadline = clock.Mono() + 2 * config->scheduler.interval + 2 * config->api.timeout;
  for (;;) {
    const MonoTime next = scheduler.Tick();
    FleetSnapshot snap = scheduler.Snapshot();
    if (!snap.discovered && snap.discoveries_failed > 0) {
      err << "hotdata-monitor: cannot list connections: " << snap.last_discovery_error << "\n";
      return kExitNoAnswer;
    }
    if (snap.discovered && snap.rounds_completed > 0) {
      pool.Shutdown();
      return PrintRound(snap, out);
    }
    if (clock.Mono() > deadline) {
      err << "hotdata-monitor: the health round did not finish in time\n";
      pool.Shutdown();
      return PrintRound(scheduler.Snapshot(), out) == kExitUnhealthy ? kExitUnhealthy
                                                                     : kExitNoAnswer;
    }
    const auto wait =
        std::min<MonoTime::duration>(next - clock.Mono(), std::chrono::milliseconds(20));
    if (wait > MonoTime::duration::zero()) std::this_thread::sleep_for(wait);
  }
}

}  // namespace hdm
