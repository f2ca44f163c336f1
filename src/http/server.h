// HttpServer: the monitor's own endpoints.
//   GET  /metrics         text exposition 0.0.4 (gzip when the scraper asks)
//   GET  /healthz         200 while the scheduler loop is alive, else 503
//   GET  /readyz          200 once the first discovery succeeded, else 503
//   POST /-/reload        re-reads the config (same as SIGHUP); 200, or 500 with the error
//   GET  /api/v1/status   JSON: every connection with its last check
//   GET  /api/v1/actions  JSON: recent audit entries (when a handler is given)
//   POST /api/v1/alerts   the alert webhook (Alertmanager, Grafana), while alerts_enabled()
//   GET  /                the status page for people (statuspage/status_page.h), ?q= filters its
//                         connections, ?fragment=1 gives its live block alone; with the CSP of
//                         statuspage/assets.h. Without a status_page handler, links to the above
//   GET  /status.js, /status.css, /favicon.svg   the page's own script, stylesheet and icon
// A Listener's thread ("hdm-http") accepts; a ConnectionManager runs the connections (see there:
// silent or slow clients hold no thread, or one for at most limits.read_timeout; a burst of
// requests gets up to limits.max_workers threads); RequestParser reads each request (see there
// for what is refused, and with which status). A GET endpoint also answers HEAD; another method
// on a known path gets 405 with Allow. Handlers run on worker threads and must be thread-safe.
//
// Optional TLS (Start with an identity) and basic auth (SetBasicAuth). With basic auth, every
// request, to every path and with every method, needs the credentials; anything else gets 401
// with `WWW-Authenticate: Basic realm="hotdata-monitor"` and reaches no handler.
//
// Extra headers (SetExtraHeaders, from --web.config.file's http_server_config.headers) go on
// every response the server's handlers and its authentication give (401, 404 and 405 included);
// the parser's refusals of malformed requests (400, 413, 431...) do without them.
#pragma once

#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http/basic_auth.h"
#include "http/connection_manager.h"
#include "http/server_tls.h"

namespace hdm {

struct HttpHandlers {
  std::function<std::string()> metrics;
  std::function<bool()> alive;
  std::function<bool()> ready;
  std::function<std::string()> status_json;
  std::function<std::string()> actions_json;  // may be empty: 404
  std::function<std::expected<void, std::string>()> reload;
  // GET /: the status page's HTML for `filter` (?q=), the whole page or, with `fragment`, its
  // live block alone. May be empty: a page of links.
  std::function<std::string(const std::string& filter, bool fragment)> status_page;
  // POST /api/v1/alerts: served while alerts_enabled() is true; else (or when either is empty)
  // the path does not exist (404, for every method). Its body may be up to alerts_max_body bytes
  // (instead of ConnectionLimits' request limit); a bigger one is answered by alerts_too_large:
  // from its Content-Length before it is read, or (size nullopt) once a chunked body goes over.
  std::function<bool()> alerts_enabled;
  std::function<void(const Request&, Response&)> alerts;
  std::function<void(std::optional<uint64_t> size, Response&)> alerts_too_large;
  size_t alerts_max_body = 0;
};

struct ListenAddress {
  std::string host;  // "0.0.0.0", "::", "127.0.0.1"
  int port = 0;
};
// Parses "host:port", ":port" (all interfaces) and "[v6]:port".
std::expected<ListenAddress, std::string> ParseListenAddress(const std::string& listen);

class HttpServer {
 public:
  explicit HttpServer(HttpHandlers handlers, ConnectionLimits limits = {});
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts serving, over TLS when `tls` is given, else plain HTTP; returns the bound
  // port (useful with port 0), or why it could not start (e.g. `cannot listen: Address already
  // in use`). Call once.
  std::expected<int, std::string> Start(const std::string& listen,
                                        std::shared_ptr<const TlsIdentity> tls = nullptr);
  void Stop();

  // Requires these credentials from now on; null lets every request in. Thread-safe; requests
  // already past the check are not affected.
  void SetBasicAuth(std::shared_ptr<const BasicAuthChecker> auth);
  // Presents `identity` at the following TLS handshakes. False (and nothing changes) when the
  // server was started without TLS. Thread-safe.
  bool SetTlsIdentity(std::shared_ptr<const TlsIdentity> identity);
  // Adds these header fields to every response from now on (replacing the previous ones).
  // Thread-safe.
  void SetExtraHeaders(std::vector<std::pair<std::string, std::string>> headers);
  bool tls() const;
  ConnectionManager::Stats connection_stats() const;  // zeros before Start
  // The errno of the bind or listen that failed the last Start() (EADDRINUSE, EADDRNOTAVAIL,
  // EACCES...), so that a caller can tell a busy port from a forbidden one; 0 when Start() did not
  // fail there.
  int listen_errno() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hdm
