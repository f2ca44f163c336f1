// The typed configuration. LoadConfig() returns a fully validated Config or every error it
// found; a Config that exists is valid. Plain value types: share as shared_ptr<const Config>.
#pragma once

#include <chrono>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/cron.h"

namespace hdm {

using Millis = std::chrono::milliseconds;

struct RetryConfig {
  int attempts = 3;  // counts the first try
  Millis backoff{500};
  Millis max_backoff{10'000};
};

struct ClientTlsConfig {
  std::string ca_file;  // empty: system CAs
  bool insecure_skip_verify = false;
};

struct ApiConfig {
  std::string base_url;      // http:// or https://, trailing '/' removed
  std::string workspace_id;  // empty: no X-Workspace-Id header
  std::string token_file;    // wins over token_env when set
  std::string token_env = "HOTDATA_API_TOKEN";
  Millis timeout{15'000};  // per attempt
  RetryConfig retries;
  ClientTlsConfig tls;
};

// Globs per field ('*', '?', '[...]'). A field with no globs does not take part.
struct Selector {
  std::vector<std::string> name;
  std::vector<std::string> id;
  std::vector<std::string> source_type;
  bool Empty() const { return name.empty() && id.empty() && source_type.empty(); }
};

struct ShardConfig {
  int index = 0;
  int count = 1;
};

struct SchedulerConfig {
  Millis interval{30'000};
  Millis discovery_interval{300'000};
  int concurrency = 16;
  std::optional<Selector> include;
  std::optional<Selector> exclude;
  ShardConfig shard;
};

struct TableRef {
  std::string schema;
  std::string table;
  friend bool operator==(const TableRef&, const TableRef&) = default;
};

// An entry of the top-level `tables:` list. `connection` is a name or an id.
struct TableWatch {
  std::string connection;
  TableRef table;
};

// The client certificate policy of the server, as Go's crypto/tls names them (exporter-toolkit's
// client_auth_type). "Verify" checks the certificate against client_ca_file.
enum class ClientAuthType {
  kNoClientCert,
  kRequestClientCert,           // asked for, not required, not verified
  kRequireAnyClientCert,        // required, not verified
  kVerifyClientCertIfGiven,     // not required, verified when given
  kRequireAndVerifyClientCert,  // required and verified
};

enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };

struct ServerTlsConfig {
  std::string cert_file;
  std::string key_file;
  // The rest comes from --web.config.file only (server.tls has the two files and these defaults).
  ClientAuthType client_auth = ClientAuthType::kNoClientCert;
  std::string client_ca_file;  // empty: none
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  bool prefer_server_cipher_suites = true;
};

struct BasicAuthConfig {
  std::string username;
  std::string password_file;
};

struct ServerConfig {
  std::string listen = "0.0.0.0:9977";
  std::optional<ServerTlsConfig> tls;
  std::optional<BasicAuthConfig> basic_auth;
  // From --web.config.file (config/web_config.h); empty without one.
  std::string web_config_file;
  std::map<std::string, std::string> basic_auth_users;       // user -> bcrypt hash
  std::vector<std::pair<std::string, std::string>> headers;  // added to every response

  // Whether a request needs credentials: server.basic_auth or web-config users.
  bool HasBasicAuth() const { return basic_auth.has_value() || !basic_auth_users.empty(); }
};

struct MaintenanceWindow {
  std::string cron_text;
  CronSpec cron;
  Millis duration{0};
};

struct SafetyConfig {
  bool dry_run = false;
  std::vector<MaintenanceWindow> maintenance;
  int max_purges_per_hour = 30;
  double pause_when_unhealthy_fraction_above = 0.5;
  int pause_min_connections = 3;
};

enum class EventKind {
  kUnhealthy,
  kRecovered,
  kLatencyAbove,
  kSchedule,
  kTableStale,
  kTablesChanged,
  kAlert,  // a notification from Alertmanager or Grafana (POST /api/v1/alerts)
};

struct WhenConfig {
  EventKind event = EventKind::kUnhealthy;
  std::optional<Millis> for_duration;  // `for:`
  std::optional<int> after_failures;
  std::optional<Millis> threshold;  // latency_above
  std::optional<CronSpec> cron;     // schedule
  std::string cron_text;
  std::optional<Millis> every;    // schedule
  std::optional<Millis> max_age;  // table_stale
  // alert: the alert names it takes (`alertname`, at least one), and labels each such alert must
  // carry with exactly these values (`labels`).
  std::vector<std::string> alertnames;
  std::map<std::string, std::string> alert_labels;
};

enum class PurgeKind { kConnection, kTable };

struct ActionConfig {
  PurgeKind purge = PurgeKind::kConnection;
  std::vector<TableRef> tables;  // purge: table; empty means "the tables that triggered"
};

struct PolicyConfig {
  std::string name;
  Selector match;  // empty: every monitored connection
  WhenConfig when;
  ActionConfig action;
  Millis cooldown{30 * 60'000};
  bool dry_run = false;
};

struct Config {
  std::string source_path;  // the file it was loaded from, for messages
  ApiConfig api;
  SchedulerConfig scheduler;
  std::vector<TableWatch> tables;
  ServerConfig server;
  std::string state_file = "/var/lib/hotdata-monitor/state.json";
  SafetyConfig safety;
  std::vector<PolicyConfig> policies;
};

// One problem found in a config file. ToString() gives `file:line:col: key: message`
// (line and column are 1-based; 0 when the problem has no position, e.g. an unreadable file).
// A part that is absent is left out with its separator: `config.yaml: cannot read file: No such
// file or directory` (no position), `config.yaml:3:1: YAML syntax error: ...` (no key).
// Keys index lists from 0: `policies[0]` is the first policy.
struct ConfigError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string key;  // e.g. "policies[2].when.for"
  std::string message;
  std::string ToString() const;
};

using ConfigResult = std::expected<Config, std::vector<ConfigError>>;

// Reads and validates the file at `path`. Never throws. On failure the errors are ordered by
// their position in the file; every problem found is reported, not only the first.
ConfigResult LoadConfig(const std::string& path);
// Parses `yaml_text` as if read from `file_name` (used in messages). Never throws.
ConfigResult ParseConfig(const std::string& yaml_text, const std::string& file_name);

// The longest duration the config accepts, for every duration key: 10 years. A time point
// computed from a configured duration (`now + cooldown`) then stays far inside the clocks' range.
inline constexpr Millis kMaxConfigDuration = std::chrono::days(3650);

// Parses "500ms", "30s", "5m", "6h", "1d" (and combinations like "1h30m", each unit at most
// once, largest first) and "0". Nullopt for empty, negative, fractional, unknown units, spaces
// or a value past the range of Millis. Never throws.
std::optional<Millis> ParseDuration(std::string_view text);
// The inverse, for messages and status output: "1h30m", "500ms", "0s".
std::string FormatDuration(Millis d);

}  // namespace hdm
