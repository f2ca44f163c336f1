// hotdata-monitor: flags, signals and wiring; the work happens in src/app and below.
#include <pthread.h>
#include <signal.h>

#include <iostream>

#include <spdlog/spdlog.h>

#include "app/allocator.h"
#include "app/cli.h"
#include "app/commands.h"
#include "app/daemon.h"
#include "app/logging.h"
#include "ops/connections.h"
#include "ops/state_command.h"

namespace {

// Blocks the daemon's signals in every thread; main() takes them with sigwait.
sigset_t BlockSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// 1 when a later try may succeed (systemd restarts the unit), 2 when the config must change.
int StartExitCode(const hdm::StartError& error) {
  return error.kind == hdm::StartError::Kind::kRetryable ? hdm::kExitStartRetryable
                                                         : hdm::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // Every mode talks HTTP(S): a write to a connection the peer closed must be an error, not a
  // silent death (OpenSSL writes with write(), not send(MSG_NOSIGNAL)).
  signal(SIGPIPE, SIG_IGN);
  auto cli = hdm::ParseCli(argc, argv);
  if (!cli) {
    std::cerr << "hotdata-monitor: " << cli.error() << "\n";
    return hdm::kExitUsage;
  }
  if (cli->help) {
    std::cout << hdm::UsageText();
    return hdm::kExitOk;
  }
  if (cli->version) {
    std::cout << hdm::VersionText();
    return hdm::kExitOk;
  }
  if (auto ok = hdm::SetupLogging(cli->log_level, cli->log_format); !ok) {
    std::cerr << "hotdata-monitor: " << ok.error() << "\n";
    return hdm::kExitUsage;
  }
  if (cli->connections) return hdm::ops::RunConnections(*cli, std::cin, std::cout, std::cerr);
  if (cli->state) return hdm::ops::RunState(*cli, std::cout, std::cerr);
  if (cli->check_config) return hdm::RunCheckConfig(*cli, std::cout, std::cerr);
  if (cli->once) return hdm::RunOnce(*cli, std::cout, std::cerr);
  const sigset_t signals = BlockSignals();  // before any thread starts
  hdm::ConfigureAllocator();

  auto daemon = hdm::Daemon::Create({.config_path = cli->config_path,
                                     .force_dry_run = cli->dry_run,
                                     .listen_override = cli->listen_address,
                                     .web_config_file = cli->web_config_file});
  if (!daemon) {
    std::cerr << "hotdata-monitor: " << daemon.error();
    if (!daemon.error().message.ends_with("\n")) std::cerr << "\n";
    return StartExitCode(daemon.error());
  }
  if (auto port = (*daemon)->Start(); !port) {
    std::cerr << "hotdata-monitor: " << port.error() << "\n";
    return StartExitCode(port.error());
  }
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      (void)(*daemon)->Reload();
      continue;
    }
    spdlog::info("received {}, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    (*daemon)->Stop();
    spdlog::info("stopped");
    return hdm::kExitOk;
  }
}
