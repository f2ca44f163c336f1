// Internal to the HTTP client: the pure parts (base URL, Retry-After, backoff, formatting), kept
// apart from the transport so that tests can check them without a server.
#pragma once

#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

namespace hdm::hotdata {

struct BaseUrl {
  std::string scheme;            // "http" or "https"
  std::string scheme_host_port;  // for messages: "https://host:8443"
  std::string host;              // "app.hotdata.dev", "127.0.0.1", "::1" (no brackets)
  int port = 0;                  // the URL's, else 80 or 443
  std::string authority;         // the Host header: "host:8443", "[::1]:8080", "app.hotdata.dev"
  std::string path_prefix;       // "" or "/prefix" (no trailing slash), prepended to every path
};

// Accepts http(s)://host[:port][/prefix]; anything else (another scheme, userinfo, a query, an
// empty host, a bad port) is an error naming the problem.
std::expected<BaseUrl, std::string> ParseBaseUrl(std::string_view url);

// A Retry-After header value: delay-seconds or an IMF-fixdate HTTP-date (relative to `now`; a
// date in the past is zero). nullopt when unparsable. Capped at one day.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value,
                                                         std::chrono::system_clock::time_point now);

// The wait before retry number `retry` (0 for the first retry): backoff * 2^retry, at most
// max_backoff.
std::chrono::milliseconds BackoffDelay(int retry, std::chrono::milliseconds backoff,
                                       std::chrono::milliseconds max_backoff);

// `s` without leading and trailing spaces and tabs (HTTP's optional whitespace).
std::string_view TrimOws(std::string_view s);

// "15s" for whole seconds, "250ms" otherwise.
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace hdm::hotdata
