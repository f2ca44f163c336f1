#include "app/daemon.h"

#include <cerrno>
#include <ostream>

#include <spdlog/spdlog.h>

#include "app/alert_webhook.h"
#include "app/api_factory.h"
#include "app/status_page_source.h"
#include "app/token.h"
#include "common/version.h"
#include "config/server_files.h"
#include "config/web_config.h"
#include "http/status_json.h"
#include "state/state_file.h"
#include "state/state_lock.h"

namespace hdm {
namespace {

// A webhook answer as the server's response; a 503 tells the sender when to try again.
void SendReply(webhook::Reply reply, Response& res) {
  res.SetContent(std::move(reply.body), std::move(reply.content_type));
  res.status = reply.status;
  if (reply.status == 503) res.AddHeader("Retry-After", "5");
}

// /healthz turns 503 when the scheduler loop has not gone round for this long (monotonic clock:
// a step of the wall clock neither fails /healthz nor hides a stalled loop).
constexpr auto kLoopStallLimit = std::chrono::seconds(30);

// The checker for server.basic_auth or the web config's basic_auth_users, or null without
// either. The error names the file.
std::expected<std::shared_ptr<const BasicAuthChecker>, std::string> LoadBasicAuth(
    const ServerConfig& server) {
  if (!server.basic_auth_users.empty()) {
    auto checker = BasicAuthChecker::Create(server.basic_auth_users);
    if (!checker) return std::unexpected("basic_auth_users: " + checker.error());
    return std::shared_ptr<const BasicAuthChecker>(std::move(*checker));
  }
  if (!server.basic_auth) return nullptr;
  auto hash = ReadPasswordHash(server.basic_auth->password_file);
  if (!hash) return std::unexpected("server.basic_auth.password_file: " + hash.error());
  auto checker = BasicAuthChecker::Create(server.basic_auth->username, std::move(*hash));
  if (!checker) return std::unexpected("server.basic_auth: " + checker.error());
  return std::shared_ptr<const BasicAuthChecker>(std::move(*checker));
}

// The certificate, key and policy of server.tls (or the web config's tls_server_config), or
// null without it. The error names the file.
std::expected<std::shared_ptr<const TlsIdentity>, std::string> LoadServerTls(
    const ServerConfig& server) {
  if (!server.tls) return nullptr;
  auto identity = LoadTlsIdentity(*server.tls);
  if (!identity) {
    return std::unexpected(server.web_config_file.empty()
                               ? "server.tls: " + identity.error()
                               : server.web_config_file +
                                     ": tls_server_config: " + identity.error());
  }
  return std::move(*identity);
}

// The config file and, with --web.config.file, the web config file; its notes are logged.
ConfigResult LoadDaemonConfig(const DaemonOptions& options) {
  WebConfig web;
  auto config = LoadConfigAndWebConfig(options.config_path, options.web_config_file, &web);
  if (config) {
    for (const std::string& note : web.Notes()) spdlog::info("{}", note);
  }
  return config;
}

StartError NeedsNewConfig(std::string message) {
  return {.kind = StartError::Kind::kConfig, .message = std::move(message)};
}

// Whether the state file can be read and written now (state::CheckUsable), under its lock:
// a missing, read-only or full state directory stops the start. The error names state_file;
// only a lock that another process holds past the wait is worth another try.
std::expected<void, StartError> CheckStateFile(const std::string& path) {
  if (path.empty()) return {};
  auto lock = state::StateLock::Acquire(path, policy::PolicyService::kStateLockTimeout);
  if (!lock) {
    // StateLock::Acquire's words for EWOULDBLOCK at its deadline.
    const bool held = lock.error().ends_with(": held by another process");
    return std::unexpected(
        StartError{.kind = held ? StartError::Kind::kRetryable : StartError::Kind::kConfig,
                   .message = "state_file " + path + ": " + lock.error()});
  }
  auto usable = state::CheckUsable(path);
  if (!usable) return std::unexpected(NeedsNewConfig("state_file " + path + ": " + usable.error()));
  return {};
}

// A listen failure that may pass: the address is in use (another process, or the previous
// instance still shutting down) or not on this host yet (an address that comes up late at boot).
bool ListenRetryable(int error) { return error == EADDRINUSE || error == EADDRNOTAVAIL; }

}  // namespace

std::ostream& operator<<(std::ostream& out, const StartError& error) {
  return out << error.message;
}

std::string FormatConfigErrors(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.ToString() + "\n";
  return out;
}

std::expected<std::unique_ptr<Daemon>, StartError> Daemon::Create(DaemonOptions options) {
  auto config = LoadDaemonConfig(options);
  if (!config) return std::unexpected(NeedsNewConfig(FormatConfigErrors(config.error())));
  auto auth = LoadBasicAuth(config->server);
  if (!auth) return std::unexpected(NeedsNewConfig(config->source_path + ": " + auth.error()));
  auto token = ReadToken(config->api);
  if (!token) return std::unexpected(NeedsNewConfig(token.error()));
  if (auto state = CheckStateFile(config->state_file); !state) {
    return std::unexpected(state.error());
  }
  if (options.force_dry_run) config->safety.dry_run = true;
  if (options.listen_override) config->server.listen = *options.listen_override;
  auto shared = std::make_shared<const Config>(std::move(*config));
  std::unique_ptr<Daemon> daemon(new Daemon(std::move(options), shared, std::move(*token)));
  daemon->server_->SetBasicAuth(std::move(*auth));
  daemon->server_->SetExtraHeaders(shared->server.headers);
  return daemon;
}

Daemon::Daemon(DaemonOptions options, std::shared_ptr<const Config> config, std::string token)
    : options_(std::move(options)),
      token_(std::move(token)),
      clock_(options_.clock != nullptr ? *options_.clock : system_clock_),
      config_(std::move(config)) {
  const ApiConfig api = config_->api;
  pool_ = std::make_unique<WorkerPool>(config_->scheduler.concurrency, [this, api] {
    return MakeApiClient(api, token_, &metrics_);
  });
  scheduler_ = std::make_unique<Scheduler>(clock_, *pool_, config_->scheduler);
  scheduler_->SetTables(config_->tables);
  // The loop must go round well inside systemd's watchdog period to feed it.
  auto max_wait = std::chrono::milliseconds(1000);
  if (notifier_.watchdog_period().count() > 0) {
    max_wait = std::min(max_wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                                      notifier_.watchdog_period() / 4));
  }
  loop_ = std::make_unique<SchedulerLoop>(
      clock_, *scheduler_, [this](MonoTime now) { OnHeartbeat(now); }, max_wait);
  scheduler_->SetWakeup([this] { loop_->Wake(); });
  policy_ = std::make_unique<policy::PolicyService>(
      clock_, config_, MakeApiClient(api, token_, &metrics_),
      policy::PolicyServiceOptions{
          .state_path = config_->state_file,
          .fleet = [this] { return scheduler_->Snapshot(); },
          .on_purged = [this](const std::string& id,
                              SysTime when) { scheduler_->RecordPurge(id, when); },
          .on_save_error = [this] { metrics_.CountStateSaveError(); },
      });
  // hotdata_connection_last_purge_timestamp_seconds and last_purge survive a restart.
  scheduler_->SeedLastPurges(policy_->LastPurges());
  scheduler_->SetCheckListener([this](const CheckEvent& e) { policy_->OnCheck(e); });
  scheduler_->SetDetailsListener(
      [this](const ConnectionState& c, SysTime now) { policy_->OnConnectionDetails(c, now); });
  scheduler_->SetProfileListener([this](const TableState& t, SysTime now) {
    policy_->OnTableProfile(t.connection_id, {t.schema, t.table}, t.synced_at, now);
  });
  alerts_ = MakeAlertReceiver(*policy_, metrics_);
  server_ = std::make_unique<HttpServer>(HttpHandlers{
      .metrics =
          [this] {
            const PolicyCounters counters = CurrentPolicyCounters();
            return metrics_.Render(scheduler_->Snapshot(), &counters);
          },
      .alive = [this] { return Alive(); },
      .ready = [this] { return scheduler_->Ready(); },
      .status_json =
          [this] {
            return RenderStatusJson(scheduler_->Snapshot(), [this](const std::string& id) {
              return policy_->StatusJson(id);
            });
          },
      .actions_json = [this] { return policy_->ActionsJson(); },
      .reload = [this] { return Reload(); },
      .status_page =
          [this, started = clock_.Mono()](const std::string& filter, bool fragment) {
            const statuspage::PageOptions options{.filter = filter};
            const auto uptime =
                std::chrono::duration_cast<std::chrono::seconds>(clock_.Mono() - started);
            const statuspage::PageData data =
                CollectStatusPage(scheduler_->Snapshot(), *policy_, *this->config(), clock_.Now(),
                                  uptime, options.decisions);
            return fragment ? statuspage::RenderLive(data, options)
                            : statuspage::RenderPage(data, options);
          },
      .alerts_enabled = [this] { return HasAlertPolicy(*this->config()); },
      .alerts = [this](const Request& req,
                       Response& res) { SendReply(alerts_->Handle(req.body), res); },
      .alerts_too_large = [this](std::optional<uint64_t> size,
                                 Response& res) { SendReply(alerts_->TooLarge(size), res); },
      .alerts_max_body = webhook::kMaxBodyBytes,
  });
  metrics_.SetConfigReload(true, clock_.Now());
}

Daemon::~Daemon() { Stop(); }

std::expected<int, StartError> Daemon::Start() {
  auto tls = LoadServerTls(config()->server);
  if (!tls) return std::unexpected(NeedsNewConfig(tls.error()));
  const std::string& listen = config()->server.listen;
  auto port = server_->Start(listen, std::move(*tls));
  if (!port) {
    return std::unexpected(StartError{.kind = ListenRetryable(server_->listen_errno())
                                                  ? StartError::Kind::kRetryable
                                                  : StartError::Kind::kConfig,
                                      .message = "server.listen " + listen + ": " + port.error()});
  }
  spdlog::info("hotdata-monitor {} listening on {} (port {}, {}{}), watching {}", kVersion,
               config()->server.listen, *port, server_->tls() ? "https" : "http",
               config()->server.HasBasicAuth() ? ", basic auth" : "", config()->api.base_url);
  if (auto exposed = AlertWebhookExposure(*config(), listen)) spdlog::warn("{}", *exposed);
  // Ready means serving with a valid config, token and state: an API that cannot be reached
  // yet is a STATUS= and /readyz matter, not a start that hangs until TimeoutStartSec. Sent
  // before the scheduler starts, so that every STATUS= from its heartbeat comes after it.
  notifier_.Ready(StatusLine());
  loop_->Start();
  policy_->Start();
  return *port;
}

void Daemon::Stop() {
  notifier_.Stopping();
  if (loop_) loop_->Stop();
  if (pool_) pool_->Shutdown();
  if (policy_) policy_->Stop();  // saves the state file
  if (server_) server_->Stop();
}

void Daemon::OnHeartbeat(MonoTime now) {
  notifier_.Heartbeat(now);
  if (!notifier_.enabled()) return;
  // Until the first discovery the status changes with the error, and costs little (no
  // connections yet): send each change. The first success is told at once; then every 10 s.
  const bool discovered = scheduler_->Ready();
  if (discovered && discovery_reported_ && now - last_status_ < std::chrono::seconds(10)) return;
  std::string status = StatusLine();
  if (!discovered && status == last_status_text_ && now - last_status_ < std::chrono::seconds(10)) {
    return;
  }
  discovery_reported_ = discovered;
  last_status_ = now;
  last_status_text_ = status;
  notifier_.Status(status);
}

PolicyCounters Daemon::CurrentPolicyCounters() const {
  PolicyCounters out;
  const policy::AuditCounters counted = policy_->Counters();
  out.actions = counted.actions;
  out.suppressed = counted.suppressed;
  out.outage_pause = policy_->OutagePaused();
  out.state_lost = policy_->StateLost();
  const policy::PolicyEngine::Budget budget = policy_->Budget();
  out.budget_limit = budget.limit;
  out.budget_remaining = budget.remaining;
  // Every configured policy's series exist from the start at 0, so that increase() and rate()
  // see the first purge.
  const std::shared_ptr<const Config> cfg = config();  // a reload may swap config_ meanwhile
  for (const PolicyConfig& p : cfg->policies) {
    if (p.when.event == EventKind::kTableStale && p.when.max_age) {
      out.table_stale.push_back({.match = p.match, .max_age = *p.when.max_age});
    }
    const std::string action(policy::ActionName(p.action.purge));
    for (const char* result : {"success", "failed", "dry_run"}) {
      out.actions.try_emplace({p.name, action, result}, 0);
    }
    for (const char* reason : {"cooldown", "budget", "outage_pause", "maintenance",
                               "permanent_error", "api_unreachable", "state_lost"}) {
      out.suppressed.try_emplace({p.name, reason}, 0);
    }
  }
  return out;
}

std::string Daemon::StatusLine() const {
  const FleetSnapshot snap = scheduler_->Snapshot();
  if (!snap.discovered) {
    return snap.last_discovery_error.empty()
               ? std::string("waiting for the first discovery")
               : "waiting for the first discovery: " + snap.last_discovery_error;
  }
  size_t unhealthy = 0;
  size_t failing = 0;
  for (const auto& c : snap.connections) {
    if (c.healthy == false) ++unhealthy;
    if (c.checked && !c.check_success) ++failing;
  }
  return "monitoring " + std::to_string(snap.connections.size()) +
         " connections: " + std::to_string(unhealthy) + " unhealthy, " + std::to_string(failing) +
         " checks failing; last round " +
         std::to_string(static_cast<int64_t>(snap.last_round_duration_seconds * 1000)) + " ms";
}

bool Daemon::Alive() const { return clock_.Mono() - loop_->LastBeat() < kLoopStallLimit; }

std::shared_ptr<const Config> Daemon::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

std::expected<void, std::string> Daemon::Reload() {
  std::lock_guard reload(reload_mu_);
  notifier_.Reloading();
  auto fail = [this](std::string errors) -> std::expected<void, std::string> {
    notifier_.ReloadDone("reload failed; running the previous config");
    metrics_.SetConfigReload(false, clock_.Now());
    spdlog::error("reload failed, the running config stays in force:\n{}", errors);
    return std::unexpected(std::move(errors));
  };
  auto loaded = LoadDaemonConfig(options_);
  if (!loaded) return fail(FormatConfigErrors(loaded.error()));
  if (options_.force_dry_run) loaded->safety.dry_run = true;
  if (options_.listen_override) loaded->server.listen = *options_.listen_override;
  auto next = std::make_shared<const Config>(std::move(*loaded));
  std::shared_ptr<const Config> previous = config();
  // The server's credentials and certificate take effect at a reload; both are read before
  // anything is swapped, so that a bad file leaves everything as it was.
  auto auth = LoadBasicAuth(next->server);
  if (!auth) return fail(next->source_path + ": " + auth.error() + "\n");
  std::shared_ptr<const TlsIdentity> tls_identity;
  if (next->server.tls && server_->tls()) {
    auto loaded_tls = LoadServerTls(next->server);
    if (!loaded_tls) return fail(next->source_path + ": " + loaded_tls.error() + "\n");
    tls_identity = std::move(*loaded_tls);
  }
  if (previous->server.HasBasicAuth() && !next->server.HasBasicAuth()) {
    spdlog::warn("reload: server.basic_auth is gone from the config; every endpoint is open now");
  }
  if (next->server.tls.has_value() != server_->tls()) {
    spdlog::warn(
        "reload: turning TLS (server.tls, tls_server_config) on or off takes effect at the next "
        "restart");
  }
  if (next->api.base_url != previous->api.base_url ||
      next->api.token_file != previous->api.token_file ||
      next->scheduler.concurrency != previous->scheduler.concurrency ||
      next->server.listen != previous->server.listen) {
    spdlog::warn(
        "reload: changes to api.*, scheduler.concurrency and server.listen take effect "
        "at the next restart");
  }
  SchedulerConfig sched = next->scheduler;
  sched.concurrency = previous->scheduler.concurrency;  // the worker pool keeps its size
  server_->SetBasicAuth(std::move(*auth));
  server_->SetExtraHeaders(next->server.headers);
  if (tls_identity) server_->SetTlsIdentity(std::move(tls_identity));
  scheduler_->SetTables(next->tables);
  scheduler_->Reconfigure(std::move(sched));
  policy_->Reconfigure(next);
  {
    std::lock_guard lock(mu_);
    config_ = next;
  }
  metrics_.SetConfigReload(true, clock_.Now());
  notifier_.ReloadDone(StatusLine());
  loop_->Wake();
  spdlog::info("config reloaded from {}", options_.config_path);
  if (auto exposed =
          AlertWebhookExposure(*next, options_.listen_override.value_or(next->server.listen))) {
    spdlog::warn("{}", *exposed);
  }
  return {};
}

}  // namespace hdm
