#include "config/web_config.h"

#include <yaml-cpp/yaml.h>

#include <array>
#include <filesystem>
#include <string_view>

#include "config/config_yaml.h"
#include "config/server_files.h"

namespace hdm {

using config_internal::Errors;
using config_internal::MapReader;
using config_internal::Quote;

namespace {

struct Named {
  std::string_view name;
  int value;
};

constexpr std::array<Named, 6> kClientAuthTypes = {{
    {"NoClientCert", static_cast<int>(ClientAuthType::kNoClientCert)},
    {"RequestClientCert", static_cast<int>(ClientAuthType::kRequestClientCert)},
    {"RequireAnyClientCert", static_cast<int>(ClientAuthType::kRequireAnyClientCert)},
    {"VerifyClientCertIfGiven", static_cast<int>(ClientAuthType::kVerifyClientCertIfGiven)},
    {"RequireAndVerifyClientCert", static_cast<int>(ClientAuthType::kRequireAndVerifyClientCert)},
    // exporter-toolkit keeps this older name of RequireAnyClientCert.
    {"RequireClientCert", static_cast<int>(ClientAuthType::kRequireAnyClientCert)},
}};

constexpr std::array<Named, 4> kTlsVersions = {{
    {"TLS10", static_cast<int>(TlsVersion::kTls10)},
    {"TLS11", static_cast<int>(TlsVersion::kTls11)},
    {"TLS12", static_cast<int>(TlsVersion::kTls12)},
    {"TLS13", static_cast<int>(TlsVersion::kTls13)},
}};

// Keys of exporter-toolkit's format that hotdata-monitor does not implement, and what to do.
struct Unsupported {
  std::string_view key;
  std::string_view hint;
};
constexpr std::array<Unsupported, 6> kUnsupportedTls = {{
    {"cert", "put the PEM certificate in a file and name it with cert_file"},
    {"key", "put the PEM key in a file and name it with key_file"},
    {"client_ca", "put the PEM CA certificates in a file and name it with client_ca_file"},
    {"client_allowed_sans", "issue client certificates from a CA of their own instead"},
    {"cipher_suites", "the OpenSSL defaults of the system apply"},
    {"curve_preferences", "the OpenSSL defaults of the system apply"},
}};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

template <size_t N>
std::string NameList(const std::array<Named, N>& names, size_t count = N) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += (i ? ", " : "") + std::string(names[i].name);
  return out;
}

// The value named `text` (exact spelling); nullopt with an error that lists the names (the first
// `listed` of them) and points at a name that differs only in case.
template <size_t N>
std::optional<int> ParseNamed(const YAML::Node& node, const std::string& path,
                              const std::array<Named, N>& names, size_t listed, Errors& errors) {
  auto text = config_internal::AsString(node, path, errors);
  if (!text) return std::nullopt;
  for (const Named& n : names) {
    if (*text == n.name) return n.value;
  }
  std::string message = "expected one of " + NameList(names, listed) + ", got " + Quote(*text);
  for (const Named& n : names) {
    if (EqualsIgnoreCase(*text, n.name)) {
      message += " (the names are case-sensitive: " + std::string(n.name) + ")";
      break;
    }
  }
  errors.Add(node, path, message);
  return std::nullopt;
}

// `path` as the server will open it: relative to the web config file's directory.
std::string Resolve(const std::string& path, const std::string& file_name) {
  if (path.empty() || path.front() == '/') return path;
  const std::filesystem::path dir = std::filesystem::path(file_name).parent_path();
  if (dir.empty()) return path;
  return (dir / path).string();
}

// A header value the server can send: no control characters but tab.
bool SafeHeaderValue(std::string_view value) {
  for (char c : value) {
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

std::optional<ServerTlsConfig> ParseTls(const YAML::Node& node, const std::string& file_name,
                                        Errors& errors) {
  MapReader r(node, "tls_server_config", errors);
  // An empty (or null) section turns nothing on, as in exporter-toolkit.
  if (!node.IsMap() || node.size() == 0) {
    r.Finish();
    return std::nullopt;
  }
  ServerTlsConfig tls;
  if (r.Require("cert_file"))
    tls.cert_file = Resolve(r.String("cert_file", true).value_or(""), file_name);
  if (r.Require("key_file"))
    tls.key_file = Resolve(r.String("key_file", true).value_or(""), file_name);
  std::optional<YAML::Node> auth_node = r.Take("client_auth_type");
  if (auth_node) {
    // The first five names are listed; RequireClientCert is accepted silently.
    if (auto v =
            ParseNamed(*auth_node, r.PathOf("client_auth_type"), kClientAuthTypes, 5, errors)) {
      tls.client_auth = static_cast<ClientAuthType>(*v);
    }
  }
  std::optional<YAML::Node> ca_node = r.Take("client_ca_file");
  if (ca_node) {
    if (auto ca = config_internal::AsString(*ca_node, r.PathOf("client_ca_file"), errors)) {
      tls.client_ca_file = Resolve(*ca, file_name);
    }
  }
  std::optional<TlsVersion> min;
  std::optional<TlsVersion> max;
  if (auto v = r.Take("min_version")) {
    if (auto n =
            ParseNamed(*v, r.PathOf("min_version"), kTlsVersions, kTlsVersions.size(), errors)) {
      min = static_cast<TlsVersion>(*n);
      tls.min_version = *min;
    }
  }
  if (auto v = r.Take("max_version")) {
    if (auto n =
            ParseNamed(*v, r.PathOf("max_version"), kTlsVersions, kTlsVersions.size(), errors)) {
      max = static_cast<TlsVersion>(*n);
      tls.max_version = *max;
    }
  }
  if (tls.min_version > tls.max_version) {
    errors.Add(min ? r.KeyNode("min_version") : r.KeyNode("max_version"),
               r.PathOf(min ? "min_version" : "max_version"),
               "min_version is above max_version: no TLS version is left");
  }
  if (auto v = r.Bool("prefer_server_cipher_suites")) tls.prefer_server_cipher_suites = *v;
  for (const Unsupported& u : kUnsupportedTls) {
    if (r.Take(u.key)) {
      errors.Add(r.KeyNode(u.key), r.PathOf(u.key),
                 "not supported by hotdata-monitor; " + std::string(u.hint));
    }
  }
  const bool verifies = tls.client_auth == ClientAuthType::kVerifyClientCertIfGiven ||
                        tls.client_auth == ClientAuthType::kRequireAndVerifyClientCert;
  if (ca_node && tls.client_auth == ClientAuthType::kNoClientCert) {
    // exporter-toolkit refuses this too: a CA that nothing uses looks like client auth is on.
    errors.Add(r.KeyNode("client_ca_file"), r.PathOf("client_ca_file"),
               "is set but client_auth_type is NoClientCert (the default), so no client "
               "certificate is asked for; set client_auth_type: RequireAndVerifyClientCert");
  }
  if (auth_node && verifies && tls.client_ca_file.empty()) {
    errors.Add(*auth_node, r.PathOf("client_auth_type"),
               "verifying client certificates needs client_ca_file, the CA certificates that "
               "issue them");
  }
  r.Finish();
  return tls;
}

std::map<std::string, std::string> ParseUsers(const YAML::Node& node, Errors& errors) {
  std::map<std::string, std::string> users;
  const std::string path = "basic_auth_users";
  if (node.IsNull()) return users;
  if (!node.IsMap()) {
    errors.Add(node, path, "expected a mapping of user names to bcrypt hashes");
    return users;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      errors.Add(key, path, "expected a user name, got " + config_internal::Describe(key));
      continue;
    }
    const std::string& user = key.Scalar();
    const std::string user_path = config_internal::Join(path, user);
    if (user.empty()) {
      errors.Add(key, path, "a user name must not be empty");
      continue;
    }
    if (user.find(':') != std::string::npos) {
      errors.Add(key, user_path, "a user name must not contain ':' (basic auth splits there)");
      continue;
    }
    if (users.contains(user)) {
      errors.Add(key, user_path, "duplicate user " + Quote(user));
      continue;
    }
    const YAML::Node value = it->second;
    // Never quote the value: it is a secret (a hash, or a plain password by mistake).
    if (!value.IsScalar() || value.Scalar().empty()) {
      errors.Add(value.IsNull() ? key.Mark() : value.Mark(), user_path,
                 "expected the user's bcrypt hash");
      continue;
    }
    if (auto problem = BcryptHashProblem(value.Scalar())) {
      errors.Add(value, user_path,
                 "not a bcrypt hash (" + *problem +
                     "); plain passwords are not accepted; make one with: htpasswd -nbBC 10 \"\" "
                     "'PASSWORD' | tr -d ':\\n'");
      continue;
    }
    users.emplace(user, value.Scalar());
  }
  return users;
}

// exporter-toolkit's extraHTTPHeaders: the names, and the values each allows (none: any).
struct AllowedHeader {
  std::string_view name;
  std::vector<std::string_view> values;
};
const std::vector<AllowedHeader>& HeaderRules() {
  static const std::vector<AllowedHeader> rules = {
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
      {"Content-Security-Policy", {}},
  };
  return rules;
}

std::vector<std::pair<std::string, std::string>> ParseHeaders(const YAML::Node& node,
                                                              const std::string& path,
                                                              Errors& errors) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (node.IsNull()) return headers;
  if (!node.IsMap()) {
    errors.Add(node, path, "expected a mapping of header names to values");
    return headers;
  }
  std::vector<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      errors.Add(key, path, "expected a header name, got " + config_internal::Describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    const std::string header_path = config_internal::Join(path, name);
    const AllowedHeader* rule = nullptr;
    for (const AllowedHeader& h : HeaderRules()) {
      if (name == h.name) rule = &h;
    }
    if (rule == nullptr) {
      std::string message = "HTTP header " + Quote(name) + " can not be configured";
      bool case_only = false;
      for (const AllowedHeader& h : HeaderRules()) {
        if (EqualsIgnoreCase(name, h.name)) {
          message += "; write it " + std::string(h.name) + " (the names are case-sensitive)";
          case_only = true;
        }
      }
      if (!case_only) {
        message += "; the headers that can be are";
        for (size_t i = 0; i < HeaderRules().size(); ++i) {
          message += (i ? ", " : " ") + std::string(HeaderRules()[i].name);
        }
      }
      errors.Add(key, header_path, message);
      continue;
    }
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      errors.Add(key, header_path, "duplicate header " + Quote(name));
      continue;
    }
    seen.push_back(name);
    auto value = config_internal::AsString(it->second, header_path, errors);
    if (!value) continue;
    if (value->empty()) continue;  // "Unset if blank"
    if (!SafeHeaderValue(*value)) {
      errors.Add(it->second, header_path, "must not contain control characters (a line break)");
      continue;
    }
    if (!rule->values.empty() &&
        std::find(rule->values.begin(), rule->values.end(), *value) == rule->values.end()) {
      std::string allowed;
      for (size_t i = 0; i < rule->values.size(); ++i) {
        allowed += (i ? ", " : "") + std::string(rule->values[i]);
      }
      errors.Add(it->second, header_path, "expected one of " + allowed + ", got " + Quote(*value));
      continue;
    }
    headers.emplace_back(name, *value);
  }
  return headers;
}

WebConfig ParseRoot(const YAML::Node& root, const std::string& file_name, Errors& errors) {
  WebConfig web;
  web.source_path = file_name;
  MapReader r(root, "", errors);
  if (auto v = r.Take("tls_server_config")) web.tls = ParseTls(*v, file_name, errors);
  if (auto v = r.Take("basic_auth_users")) web.basic_auth_users = ParseUsers(*v, errors);
  if (auto v = r.Take("http_server_config")) {
    MapReader http(*v, "http_server_config", errors);
    if (auto h = http.Take("headers"))
      web.headers = ParseHeaders(*h, http.PathOf("headers"), errors);
    if (auto b = http.Bool("http2")) web.http2 = *b;
    http.Finish();
  }
  if (r.Take("rate_limit")) {
    errors.Add(r.KeyNode("rate_limit"), "rate_limit",
               "not supported by hotdata-monitor; the server already bounds connections and "
               "bcrypt work (see the security docs)");
  }
  r.Finish();
  return web;
}

std::string ClientAuthText(ClientAuthType type) {
  switch (type) {
    case ClientAuthType::kNoClientCert:
      return "no client certificates";
    case ClientAuthType::kRequestClientCert:
      return "client certificates asked for, not verified";
    case ClientAuthType::kRequireAnyClientCert:
      return "client certificates required, not verified";
    case ClientAuthType::kVerifyClientCertIfGiven:
      return "client certificates verified when given";
    case ClientAuthType::kRequireAndVerifyClientCert:
      return "client certificates required and verified";
  }
  return "?";
}

}  // namespace

const std::vector<std::string>& AllowedWebHeaders() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const AllowedHeader& h : HeaderRules()) out.emplace_back(h.name);
    return out;
  }();
  return names;
}

std::vector<std::string> WebConfig::Notes() const {
  std::vector<std::string> notes;
  if (http2.value_or(false)) {
    notes.push_back(source_path +
                    ": http_server_config.http2: hotdata-monitor serves HTTP/1.1 only; the "
                    "setting is ignored");
  }
  return notes;
}

std::string WebConfig::Summary() const {
  std::string out = tls ? "TLS (" + ClientAuthText(tls->client_auth) + ")" : "no TLS";
  out += ", " + (basic_auth_users.empty()
                     ? std::string("no basic auth")
                     : std::to_string(basic_auth_users.size()) + " basic auth user" +
                           (basic_auth_users.size() == 1 ? "" : "s"));
  out += ", " + std::to_string(headers.size()) + " header" + (headers.size() == 1 ? "" : "s");
  return out;
}

WebConfigResult ParseWebConfig(const std::string& yaml_text, const std::string& file_name) {
  Errors errors(file_name);
  try {
    const YAML::Node root = YAML::Load(yaml_text);
    // An empty file configures nothing (exporter-toolkit accepts it too).
    if (root.IsNull()) return WebConfig{.source_path = file_name};
    WebConfig web = ParseRoot(root, file_name, errors);
    if (errors.empty()) return web;
  } catch (const YAML::Exception& e) {
    errors.Add(e.mark, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    errors.Add(YAML::Mark::null_mark(), "", std::string("cannot parse: ") + e.what());
  }
  return std::unexpected(errors.Take());
}

WebConfigResult LoadWebConfig(const std::string& path) {
  auto text = config_internal::ReadConfigText(path);
  if (!text) return std::unexpected(std::move(text.error()));
  WebConfigResult web = ParseWebConfig(*text, path);
  if (!web || !web->tls) return web;
  std::vector<ConfigError> problems;
  auto check = [&](const std::string& key, const std::string& file) {
    if (file.empty()) return;
    if (auto problem = PemFileProblem(file)) {
      problems.push_back({.file = path, .key = "tls_server_config." + key, .message = *problem});
    }
  };
  check("cert_file", web->tls->cert_file);
  check("key_file", web->tls->key_file);
  check("client_ca_file", web->tls->client_ca_file);
  if (!problems.empty()) return std::unexpected(std::move(problems));
  return web;
}

std::vector<ConfigError> ApplyWebConfig(Config& config, const WebConfig& web) {
  std::vector<ConfigError> errors;
  auto twice = [&](const std::string& key, const std::string& instead) {
    errors.push_back({.file = config.source_path,
                      .key = key,
                      .message = "is set here and --web.config.file " + web.source_path +
                                 " is given: the web config file supplies the server's TLS and "
                                 "basic auth; remove " +
                                 key + " and use " + instead + " there"});
  };
  if (config.server.tls) twice("server.tls", "tls_server_config");
  if (config.server.basic_auth) twice("server.basic_auth", "basic_auth_users");
  if (!errors.empty()) return errors;
  config.server.web_config_file = web.source_path;
  config.server.tls = web.tls;
  config.server.basic_auth_users = web.basic_auth_users;
  config.server.headers = web.headers;
  return errors;
}

ConfigResult LoadConfigAndWebConfig(const std::string& config_path,
                                    const std::string& web_config_path, WebConfig* web_out) {
  ConfigResult config = LoadConfig(config_path);
  if (!config || web_config_path.empty()) return config;
  auto web = LoadWebConfig(web_config_path);
  if (!web) return std::unexpected(std::move(web.error()));
  if (auto errors = ApplyWebConfig(*config, *web); !errors.empty()) {
    return std::unexpected(std::move(errors));
  }
  if (web_out != nullptr) *web_out = std::move(*web);
  return config;
}

}  // namespace hdm
