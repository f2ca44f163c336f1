// Daemon: the running monitor, wired from a config file. main() creates one, starts it, and
// forwards signals; integration tests do the same in-process.
//
// Threads: the scheduler loop, `concurrency` API workers, the HTTP server. Stop() joins them
// all. Reload() and the accessors are thread-safe.
#pragma once

#include <expected>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "app/systemd_notify.h"
#include "common/clock.h"
#include "config/config.h"
#include "health/executor.h"
#include "health/scheduler.h"
#include "health/scheduler_loop.h"
#include "http/server.h"
#include "metrics/metrics.h"
#include "policy/policy_service.h"
#include "webhook/receiver.h"

namespace hdm {

struct DaemonOptions {
  std::string config_path;
  bool force_dry_run = false;  // --dry-run
  // --web.listen-address: serve there whatever server.listen says (kept across reloads).
  std::optional<std::string> listen_override;
  // --web.config.file: TLS, basic auth users and headers of the server (config/web_config.h);
  // re-read with the config at every reload. Empty: none.
  std::string web_config_file;
  // Where the daemon reads time (tests step its wall clock); null: the system's clocks. Must
  // outlive the Daemon.
  const Clock* clock = nullptr;
};

// Why the daemon could not be created or started: a message ready to print and whether a later
// try may succeed. main() exits 1 for kRetryable (systemd's Restart=on-failure tries again) and 2
// for kConfig (RestartPreventExitStatus=2: someone must fix it first).
struct StartError {
  enum class Kind {
    kConfig,     // the config file, a file it names (token, password, certificate), the state
                 // path (missing, not a directory, a symlink, unreadable, read-only, full), or a
                 // listen address that may not be bound (Permission denied)
    kRetryable,  // the listen address in use or not (yet) on this host; the state lock held by
                 // another process
  };
  Kind kind = Kind::kConfig;
  std::string message;
};
std::ostream& operator<<(std::ostream& out, const StartError& error);  // the message

class Daemon {
 public:
  // Loads and validates the config, reads the token and checks that the state file can be read
  // and written (a missing, read-only or full state directory fails here, not at the first
  // purge). The error is ready to print (config errors one per line as file:line:col: key:
  // message; the others name the key, the file and the cause); only a state lock held by another
  // process is kRetryable.
  static std::expected<std::unique_ptr<Daemon>, StartError> Create(DaemonOptions options);
  ~Daemon();  // Stop()s

  // Binds the HTTP server and starts the scheduler; returns the bound port. The error names
  // the address and the cause ("server.listen 127.0.0.1:9464: cannot listen: Address already
  // in use", kRetryable as is "Cannot assign requested address") or the certificate (kConfig).
  std::expected<int, StartError> Start();
  // Stops scheduling, cancels calls in flight, stops the server, joins every thread.
  void Stop();
  // Re-reads the config file. A valid file is swapped in; an invalid one leaves the running
  // config in force. Counted in hotdata_monitor_config_last_reload_successful either way.
  // Reloads run one at a time (SIGHUP on the main thread, POST /-/reload on an HTTP worker): a
  // second waits for the first, so the server, scheduler, policies and config() always end on
  // the same file.
  std::expected<void, std::string> Reload();

  Scheduler& scheduler() { return *scheduler_; }
  policy::PolicyService& policy() { return *policy_; }
  Metrics& metrics() { return metrics_; }
  std::shared_ptr<const Config> config() const;

 private:
  Daemon(DaemonOptions options, std::shared_ptr<const Config> config, std::string token);
  bool Alive() const;
  // On the scheduler thread after every tick, `now` on the monotonic clock: systemd's watchdog
  // and STATUS=.
  void OnHeartbeat(MonoTime now);
  // "waiting for the first discovery: <last error>" until a discovery succeeded, then
  // "monitoring N connections: ...".
  std::string StatusLine() const;
  PolicyCounters CurrentPolicyCounters() const;

  const DaemonOptions options_;
  const std::string token_;  // secret
  SystemClock system_clock_;
  const Clock& clock_;  // options_.clock, or system_clock_
  SystemdNotifier notifier_;
  // Only the scheduler thread (OnHeartbeat) touches these three.
  bool discovery_reported_ = false;  // a STATUS= told the first successful discovery
  std::string last_status_text_;
  MonoTime last_status_{};  // monotonic: a wall step must not hold STATUS= back
  Metrics metrics_;
  std::unique_ptr<WorkerPool> pool_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<SchedulerLoop> loop_;
  std::unique_ptr<policy::PolicyService> policy_;
  std::unique_ptr<webhook::Receiver> alerts_;  // POST /api/v1/alerts
  std::unique_ptr<HttpServer> server_;

  std::mutex reload_mu_;  // held through a whole Reload(); taken before mu_
  mutable std::mutex mu_;
  std::shared_ptr<const Config> config_;  // Guarded by mu_.
};

// Formats config errors one per line, for stderr.
std::string FormatConfigErrors(const std::vector<ConfigError>& errors);

}  // namespace hdm
