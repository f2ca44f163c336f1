// The api and server sections.
#include <cstdint>

#include "config/config_sections.h"

namespace hdm::config_internal {
namespace {

bool IsPort(std::string_view text) {
  if (text.empty() || text.size() > 5) return false;
  int port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    port = port * 10 + (c - '0');
  }
  return port <= 65535;
}

RetryConfig ParseRetries(const YAML::Node& node, Errors& errors) {
  RetryConfig retries;
  MapReader r(node, "api.retries", errors);
  if (auto v = r.Int("attempts", 1, 10)) retries.attempts = static_cast<int>(*v);
  const auto backoff = r.Duration("backoff", Millis{1});
  if (backoff) retries.backoff = *backoff;
  const auto max_backoff_node = r.Take("max_backoff");
  r.Finish();
  if (!max_backoff_node) return retries;
  const std::string path = r.PathOf("max_backoff");
  if (auto v = AsDuration(*max_backoff_node, path, errors)) {
    if (*v < retries.backoff) {
      errors.Add(*max_backoff_node, path,
                 "must be at least backoff (" + FormatDuration(retries.backoff) + "), got " +
                     FormatDuration(*v));
    }
    retries.max_backoff = *v;
  }
  return retries;
}

}  // namespace

std::optional<std::string> BaseUrlProblem(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return "expected an http:// or https:// URL, got \"" + std::string(url) + "\"";
  }
  if (url.find_first_of(" \t\r\n") != std::string_view::npos) {
    return "must not contain whitespace";
  }
  if (rest.empty() || rest.front() == '/' || rest.front() == ':') return "has no host";
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return "must not have a query or fragment";
  }
  if (rest.find('@') != std::string_view::npos) {
    return "must not contain credentials; use api.token_file or api.token_env";
  }
  return std::nullopt;
}

std::optional<std::string> ListenProblem(std::string_view listen) {
  const std::string expected = "expected host:port like 0.0.0.0:9977, :9977 or [::]:9977, got \"" +
                               std::string(listen) + "\"";
  std::string_view host;
  std::string_view port;
  if (listen.starts_with('[')) {
    const size_t close = listen.find("]:");
    if (close == std::string_view::npos || close == 1) return expected;
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos) return expected;
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return "an IPv6 host needs brackets, like [::]:9977, got \"" + std::string(listen) + "\"";
    }
  }
  if (host.find_first_of(" \t/") != std::string_view::npos) return expected;
  if (port.empty()) return expected;
  if (!IsPort(port)) {
    return "port \"" + std::string(port) + "\" is not a number in 0-65535";
  }
  return std::nullopt;
}

ApiConfig ParseApi(const YAML::Node& node, Errors& errors) {
  ApiConfig api;
  MapReader r(node, "api", errors);
  if (r.Require("base_url")) {
    const auto url_node = r.Take("base_url");
    if (auto url = AsString(*url_node, r.PathOf("base_url"), errors)) {
      if (auto problem = BaseUrlProblem(*url)) {
        errors.Add(*url_node, r.PathOf("base_url"), *problem);
      }
      while (url->ends_with('/')) url->pop_back();
      api.base_url = *url;
    }
  }
  if (auto v = r.String("workspace_id")) api.workspace_id = *v;
  if (auto v = r.String("token_file", true)) api.token_file = *v;
  if (auto v = r.String("token_env", true)) api.token_env = *v;
  if (auto v = r.Duration("timeout", Millis{1})) api.timeout = *v;
  if (auto v = r.Take("retries")) api.retries = ParseRetries(*v, errors);
  if (auto v = r.Take("tls")) {
    MapReader tls(*v, "api.tls", errors);
    if (auto ca = tls.String("ca_file", true)) api.tls.ca_file = *ca;
    if (auto skip = tls.Bool("insecure_skip_verify")) api.tls.insecure_skip_verify = *skip;
    tls.Finish();
  }
  r.Finish();
  return api;
}

ServerConfig ParseServer(const YAML::Node& node, Errors& errors) {
  ServerConfig server;
  MapReader r(node, "server", errors);
  if (auto listen_node = r.Take("listen")) {
    if (auto listen = AsString(*listen_node, r.PathOf("listen"), errors)) {
      if (auto problem = ListenProblem(*listen)) {
        errors.Add(*listen_node, r.PathOf("listen"), *problem);
      }
      server.listen = *listen;
    }
  }
  if (auto v = r.Take("tls")) {
    MapReader tls(*v, "server.tls", errors);
    ServerTlsConfig out;
    if (tls.Require("cert_file")) out.cert_file = tls.String("cert_file", true).value_or("");
    if (tls.Require("key_file")) out.key_file = tls.String("key_file", true).value_or("");
    tls.Finish();
    server.tls = out;
  }
  if (auto v = r.Take("basic_auth")) {
    MapReader auth(*v, "server.basic_auth", errors);
    BasicAuthConfig out;
    if (auth.Require("username")) {
      const auto user = auth.Take("username");
      const std::string path = auth.PathOf("username");
      if (auto name = AsString(*user, path, errors)) {
        if (name->empty()) errors.Add(*user, path, "must not be empty");
        if (name->find(':') != std::string::npos) {
          errors.Add(*user, path, "must not contain ':' (basic auth splits at the first ':')");
        }
        out.username = *name;
      }
    }
    if (auth.Require("password_file")) {
      out.password_file = auth.String("password_file", true).value_or("");
    }
    auth.Finish();
    server.basic_auth = out;
  }
  r.Finish();
  return server;
}

}  // namespace hdm::config_internal
