#include "hotdata/http_support.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <iomanip>
#include <locale>
#include <sstream>

#include "hotdata/http_client.h"

namespace hdm::hotdata {

namespace {

constexpr std::chrono::milliseconds kMaxRetryAfter = std::chrono::hours(24);

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::optional<int64_t> ParseDecimal(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string EncodePathSegment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (unsigned char c : segment) {
    if (IsUnreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

std::expected<BaseUrl, std::string> ParseBaseUrl(std::string_view url) {
  BaseUrl out;
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::unexpected("base_url has no scheme");
  out.scheme = std::string(url.substr(0, scheme_end));
  if (out.scheme != "http" && out.scheme != "https") {
    return std::unexpected("base_url scheme must be http or https");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  const size_t path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  std::string_view path = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (authority.empty()) return std::unexpected("base_url has no host");
  if (authority.find('@') != std::string_view::npos) {
    return std::unexpected("base_url must not contain credentials");
  }
  if (path.find_first_of("?#") != std::string_view::npos) {
    return std::unexpected("base_url must not contain a query or fragment");
  }
  // The port follows the last ':' unless that ':' is inside an IPv6 literal "[...]".
  const size_t colon = authority.rfind(':');
  const size_t bracket = authority.rfind(']');
  std::string_view host = authority;
  out.port = out.scheme == "https" ? 443 : 80;
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    auto port = ParseDecimal(authority.substr(colon + 1));
    if (!port || *port < 1 || *port > 65535) return std::unexpected("base_url has an invalid port");
    if (colon == 0) return std::unexpected("base_url has no host");
    out.port = static_cast<int>(*port);
    host = authority.substr(0, colon);
  }
  if (host.starts_with('[')) {
    if (!host.ends_with(']') || host.size() < 3) {
      return std::unexpected("base_url has an invalid IPv6 address");
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find_first_of("[]") != std::string_view::npos) {
    return std::unexpected("base_url has an invalid host");
  }
  out.host = std::string(host);
  out.authority = std::string(authority);
  out.scheme_host_port = out.scheme + "://" + std::string(authority);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.path_prefix = std::string(path);
  return out;
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) {
  value = TrimOws(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    auto seconds = ParseDecimal(value);
    if (!seconds || *seconds > kMaxRetryAfter.count() / 1000) return kMaxRetryAfter;
    return std::chrono::seconds(*seconds);
  }
  std::tm tm{};
  std::istringstream in{std::string(value)};
  in.imbue(std::locale::classic());
  in >> std::get_time(&tm, "%a, %d %b %Y %H:%M:%S GMT");
  if (in.fail()) return std::nullopt;
  const auto at = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (at <= now) return std::chrono::milliseconds(0);
  return std::min(kMaxRetryAfter, std::chrono::ceil<std::chrono::milliseconds>(at - now));
}

std::chrono::milliseconds BackoffDelay(int retry, std::chrono::milliseconds backoff,
                                       std::chrono::milliseconds max_backoff) {
  std::chrono::milliseconds d = std::max(backoff, std::chrono::milliseconds(0));
  for (int i = 0; i < retry && d < max_backoff; ++i) d *= 2;
  return std::min(d, max_backoff);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

}  // namespace hdm::hotdata
