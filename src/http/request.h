// Request and Response: one HTTP/1.1 exchange of the monitor's server, as handlers see it.
//
// A Request is what RequestParser read: the method, the path (percent-decoded), the raw query,
// the header fields in arrival order and the body (de-chunked). A Response is what a handler
// fills in; the server adds Content-Length, Date and Connection and writes it.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hdm {

struct Request {
  std::string method;     // as sent: methods are case-sensitive ("GET", "HEAD", "POST", ...)
  std::string target;     // the request-target as sent: "/metrics?x=1"
  std::string path;       // percent-decoded path of the target: "/metrics"
  std::string query;      // after '?', still encoded: "x=1"; empty when none
  int minor_version = 1;  // HTTP/1.<minor_version>: 0 or 1
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent, values trimmed
  std::string body;
  bool keep_alive = true;         // the client lets the connection stay open after this request
  bool expects_continue = false;  // "Expect: 100-continue" with a body to come
  std::string remote_address;     // "127.0.0.1" or "::1"; set by the server
  // When the request's first byte was seen (it may then have waited its turn for a worker).
  std::chrono::steady_clock::time_point arrived{};

  // The value of the first field named `name` (case-insensitive); "" when there is none.
  std::string_view Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  // The value of query parameter `name` ('+' and %XX decoded), nullopt when absent.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;  // besides the ones the server sets

  // The body: `body`, or, when `shared_owner` is set, `shared_view` into memory it keeps alive
  // (a scrape body that several responses send without copying).
  std::string body;
  std::shared_ptr<const void> shared_owner;
  std::string_view shared_view;

  std::string_view Body() const { return shared_owner ? shared_view : std::string_view(body); }
  void SetText(int code, std::string text) {
    status = code;
    content_type = "text/plain; charset=utf-8";
    body = std::move(text);
  }
  void SetContent(std::string content, std::string type) {
    body = std::move(content);
    content_type = std::move(type);
  }
  void AddHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

// The reason phrase of a status code ("OK", "Not Found"); "Unknown" for codes not listed.
std::string_view ReasonPhrase(int status);

// Case-insensitive ASCII comparison.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// `s` with %XX sequences decoded (and '+' as a space when `plus_is_space`); nullopt when a '%'
// is not followed by two hex digits or a NUL byte results.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space);

}  // namespace hdm
