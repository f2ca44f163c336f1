// --web.config.file: the web configuration file of the Prometheus exporters (exporter-toolkit's
// format): TLS of the monitor's own server (tls_server_config), basic auth users with bcrypt
// hashes (basic_auth_users) and extra response headers (http_server_config.headers).
//
// What it gives lands in Config::server (ServerConfig::tls, basic_auth_users, headers), so the
// server is set up the same way whichever file named it; the main config's server.tls and
// server.basic_auth may not be set as well. Relative paths are relative to the web config file's
// directory, as in exporter-toolkit. Unknown keys are errors; keys of the format that
// hotdata-monitor does not implement (cert, key, client_ca, client_allowed_sans, cipher_suites,
// curve_preferences, rate_limit) are errors that say so. Errors never quote a password hash.
#pragma once

#include <expected>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"

namespace hdm {

struct WebConfig {
  std::string source_path;
  std::optional<ServerTlsConfig> tls;                        // absent: plain HTTP
  std::map<std::string, std::string> basic_auth_users;       // user -> bcrypt hash; empty: open
  std::vector<std::pair<std::string, std::string>> headers;  // in the file's order
  // http_server_config.http2 as given. The server speaks HTTP/1.1 only; true is accepted (it is
  // exporter-toolkit's default, so copied files have it) and noted by Notes().
  std::optional<bool> http2;

  // Remarks worth a log line that are not errors (http2: true not served).
  std::vector<std::string> Notes() const;
  // "TLS (client certificates required and verified), 2 basic auth users, 1 header".
  std::string Summary() const;
};

using WebConfigResult = std::expected<WebConfig, std::vector<ConfigError>>;

// Parses `yaml_text` as if read from `file_name` (messages; relative paths are joined to its
// directory). Touches no other file. Never throws. An empty file is valid and sets nothing.
WebConfigResult ParseWebConfig(const std::string& yaml_text, const std::string& file_name);
// Reads the file at `path`, parses it, and checks that cert_file, key_file and client_ca_file are
// readable PEM files. Never throws.
WebConfigResult LoadWebConfig(const std::string& path);

// Puts `web` into `config.server`. One error per section that config.server sets as well
// (server.tls, server.basic_auth), naming both files.
std::vector<ConfigError> ApplyWebConfig(Config& config, const WebConfig& web);

// LoadConfig(config_path), then, when `web_config_path` is not empty, LoadWebConfig and
// ApplyWebConfig. The errors of both files (the web config's only once the main one is valid).
// `web_out`, when given, receives the web config (for its Notes() and Summary()).
ConfigResult LoadConfigAndWebConfig(const std::string& config_path,
                                    const std::string& web_config_path,
                                    WebConfig* web_out = nullptr);

// The names exporter-toolkit accepts in http_server_config.headers (exact spelling).
const std::vector<std::string>& AllowedWebHeaders();

}  // namespace hdm
