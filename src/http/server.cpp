#include "http/server.h"

#include <openssl/ssl.h>

#include <charconv>
#include <chrono>
#include <mutex>

#include <spdlog/spdlog.h>

#include "http/accept_encoding.h"
#include "http/connection_manager.h"
#include "http/exchange.h"
#include "http/listener.h"
#include "metrics/gzip.h"
#include "metrics/scrape_coalescer.h"
#include "statuspage/assets.h"

namespace hdm {
namespace {

constexpr const char* kExpositionType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kJsonType = "application/json";
constexpr const char* kAuthChallenge = "Basic realm=\"hotdata-monitor\"";

constexpr const char* kIndexPage = R"(<!doctype html>
<html><head><title>hotdata-monitor</title></head>
<body><h1>hotdata-monitor</h1>
<ul>
<li><a href="/metrics">/metrics</a></li>
<li><a href="/api/v1/status">/api/v1/status</a></li>
<li><a href="/api/v1/actions">/api/v1/actions</a></li>
<li><a href="/healthz">/healthz</a> and <a href="/readyz">/readyz</a></li>
</ul></body></html>
)";

// The exposition, gzipped when the client allows it, sent from the shared body with no copy.
void SendExposition(const Request& req, Response& res,
                    std::shared_ptr<const ScrapeCoalescer::Body> body) {
  const std::string* bytes = &body->text();
  if (AcceptsGzip(req.Header("Accept-Encoding")) && !body->gzip().empty()) {
    bytes = &body->gzip();
    res.AddHeader("Content-Encoding", "gzip");
  }
  res.AddHeader("Vary", "Accept-Encoding");
  res.content_type = kExpositionType;
  res.shared_view = *bytes;
  res.shared_owner = std::move(body);
}

// The /metrics body for a scrape that arrived at `arrived`: one that a scrape still in flight
// holds, when it was asked for after `arrived` (so it shows state from after that), else a new
// one from the coalescer. In a burst, scrapes queued for a worker so share one body instead of
// each batch of freed workers rendering, and holding while it is written, its own ~10 MB copy.
class RecentScrape {
 public:
  using Body = ScrapeCoalescer::Body;
  using Clock = std::chrono::steady_clock;
  std::shared_ptr<const Body> Get(ScrapeCoalescer& scrapes, Clock::time_point arrived) {
    {
      std::lock_guard lock(mu_);
      if (auto body = body_.lock(); body && asked_at_ >= arrived) return body;
    }
    const auto asked = Clock::now();
    auto body = scrapes.Get();  // rendered after `asked`
    std::lock_guard lock(mu_);
    if (asked > asked_at_ || body_.expired()) {
      body_ = body;
      asked_at_ = asked;
    }
    return body;
  }

 private:
  std::mutex mu_;
  // Guarded by mu_.
  std::weak_ptr<const Body> body_;
  Clock::time_point asked_at_;
};

// The status page and its assets: only what the CSP allows, never sniffed as another type;
// gzipped (level 1) when the browser allows it and it pays: an outage's page lists every
// unhealthy connection, and the script fetches it again every few seconds.
void SendPagePart(const Request& req, Response& res, std::string body, std::string_view type) {
  res.AddHeader("Vary", "Accept-Encoding");
  if (body.size() >= 1024 && AcceptsGzip(req.Header("Accept-Encoding"))) {
    if (std::string gzipped = GzipCompress(body, 1); !gzipped.empty()) {
      body = std::move(gzipped);
      res.AddHeader("Content-Encoding", "gzip");
    }
  }
  res.SetContent(std::move(body), std::string(type));
  res.AddHeader("Content-Security-Policy", std::string(statuspage::kContentSecurityPolicy));
  res.AddHeader("X-Content-Type-Options", "nosniff");
  res.AddHeader("Cache-Control", "no-cache");
}

// One endpoint: a GET route also answers HEAD.
struct Route {
  const char* method;
  const char* path;
  std::function<void(const Request&, Response&)> handle;
  // Empty: always served; else the route exists only while it says so.
  std::function<bool()> enabled = {};
  // Nonzero: the largest body this route takes (else the connection's limit), and the answer to
  // a body over it: a Content-Length over it, or (nullopt) a chunked body that grew over it.
  size_t max_body = 0;
  std::function<void(std::optional<uint64_t> size, Response&)> too_large = {};
};

// Owns an SSL_CTX.
struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

}  // namespace

std::expected<ListenAddress, std::string> ParseListenAddress(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    return std::unexpected("expected host:port, got \"" + listen + "\"");
  ListenAddress out;
  out.host = listen.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty()) out.host = "0.0.0.0";
  const std::string port = listen.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (ec != std::errc() || ptr != port.data() + port.size() || port.empty() || out.port < 0 ||
      out.port > 65535) {
    return std::unexpected("invalid port \"" + port + "\" in \"" + listen + "\"");
  }
  return out;
}

struct HttpServer::Impl {
  HttpHandlers handlers;
  const ConnectionLimits limits;
  TlsIdentitySlot tls_identity;                  // before `ssl_ctx`: its callbacks point here
  std::unique_ptr<SSL_CTX, SslCtxFree> ssl_ctx;  // null: plain HTTP
  std::unique_ptr<ConnectionManager> connections;
  std::unique_ptr<Listener> listener;
  int listen_errno = 0;  // of the last failed Start(); read and written by its caller only
  std::vector<Route> routes;
  ExchangeHandler exchange;
  std::unique_ptr<ScrapeCoalescer> scrapes;  // renders handlers.metrics
  RecentScrape recent_scrape;

  mutable std::mutex mu;
  std::shared_ptr<const BasicAuthChecker> auth;  // Guarded by mu; null: open
  using Headers = std::vector<std::pair<std::string, std::string>>;
  std::shared_ptr<const Headers> extra_headers;  // Guarded by mu; null: none

  explicit Impl(HttpHandlers h, ConnectionLimits l) : handlers(std::move(h)), limits(l) {
    scrapes = std::make_unique<ScrapeCoalescer>(handlers.metrics);
    MakeRoutes();
    exchange.head = [this](const Request& req, RequestParser& parser, Response& res) {
      AddExtraHeaders(res);
      const Route* route = Admit(req, res);
      if (route == nullptr) return false;
      if (route->max_body > 0) {
        uint64_t size = 0;
        const std::string_view length = req.Header("Content-Length");
        auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), size);
        if (ec == std::errc() && end == length.data() + length.size() && size > route->max_body) {
          route->too_large(size, res);
          return false;
        }
        parser.set_max_body_bytes(route->max_body);
      }
      return true;
    };
    exchange.handle = [this](const Request& req, Response& res) {
      AddExtraHeaders(res);
      if (const Route* route = Admit(req, res)) route->handle(req, res);
    };
    exchange.body_too_large = [this](const Request& req, Response& res) {
      Response unused;  // the head was admitted: the route is found again
      const Route* route = Find(req, unused);
      if (route == nullptr || route->max_body == 0 || !route->too_large) return false;
      AddExtraHeaders(res);
      route->too_large(std::nullopt, res);
      return true;
    };
  }

  std::shared_ptr<const BasicAuthChecker> Auth() const {
    std::lock_guard lock(mu);
    return auth;
  }
  void AddExtraHeaders(Response& res) const {
    std::shared_ptr<const Headers> headers;
    {
      std::lock_guard lock(mu);
      headers = extra_headers;
    }
    if (!headers) return;
    for (const auto& [name, value] : *headers) res.AddHeader(name, value);
  }
  void MakeRoutes();
  const Route* Find(const Request& req, Response& res) const;
  const Route* Admit(const Request& req, Response& res) const;
};

void HttpServer::Impl::MakeRoutes() {
  const HttpHandlers& h = handlers;
  routes = {
      {"GET", "/metrics",
       [this](const Request& req, Response& res) {
         SendExposition(req, res, recent_scrape.Get(*scrapes, req.arrived));
       }},
      {"GET", "/healthz",
       [&h](const Request&, Response& res) {
         if (h.alive()) {
           res.SetText(200, "ok\n");
         } else {
           res.SetText(503, "scheduler loop stalled\n");
         }
       }},
      {"GET", "/readyz",
       [&h](const Request&, Response& res) {
         if (h.ready()) {
           res.SetText(200, "ready\n");
         } else {
           res.SetText(503, "waiting for the first discovery\n");
         }
       }},
      {"POST", "/-/reload",
       [&h](const Request&, Response& res) {
         auto r = h.reload();
         if (r) {
           res.SetText(200, "config reloaded\n");
         } else {
           res.SetText(500, "reload failed: " + r.error() + "\n");
         }
       }},
      {"GET", "/api/v1/status",
       [&h](const Request&, Response& res) { res.SetContent(h.status_json(), kJsonType); }},
      {"GET", "/api/v1/actions",
       [&h](const Request&, Response& res) {
         if (!h.actions_json) return res.SetText(404, "no policy engine\n");
         res.SetContent(h.actions_json(), kJsonType);
       }},
      {"GET", "/",
       [&h](const Request& req, Response& res) {
         if (!h.status_page) return SendPagePart(req, res, kIndexPage, statuspage::kHtmlType);
         const bool fragment = req.QueryParam("fragment").has_value();
         SendPagePart(req, res, h.status_page(req.QueryParam("q").value_or(""), fragment),
                      statuspage::kHtmlType);
       }},
      {"GET", "/status.js",
       [](const Request& req, Response& res) {
         SendPagePart(req, res, std::string(statuspage::Script()), statuspage::kScriptType);
       }},
      {"GET", "/status.css",
       [](const Request& req, Response& res) {
         SendPagePart(req, res, std::string(statuspage::Style()), statuspage::kStyleType);
       }},
      {"GET", "/favicon.svg",
       [](const Request& req, Response& res) {
         SendPagePart(req, res, std::string(statuspage::Icon()), statuspage::kIconType);
       }},
  };
  if (h.alerts_enabled && h.alerts && h.alerts_too_large) {
    routes.push_back(Route{.method = "POST",
                           .path = "/api/v1/alerts",
                           .handle = h.alerts,
                           .enabled = h.alerts_enabled,
                           .max_body = h.alerts_max_body,
                           .too_large = h.alerts_too_large});
  }
}

// Before routing, and before a body is read: without the credentials, no handler runs and no
// 404 tells which paths exist. Then the route must exist and take the method: returns it, or
// null with `res` set.
const Route* HttpServer::Impl::Admit(const Request& req, Response& res) const {
  const auto checker = Auth();
  if (checker && !checker->Check(req.Header("Authorization"))) {
    spdlog::debug("HTTP {} {} from {}: 401, no valid credentials", req.method, req.path,
                  req.remote_address);
    res.AddHeader("WWW-Authenticate", kAuthChallenge);
    res.SetText(401, "401 unauthorized\n");
    return nullptr;
  }
  return Find(req, res);
}

// The route for `req`; null with `res` set to 404, or to 405 with the methods the path takes.
const Route* HttpServer::Impl::Find(const Request& req, Response& res) const {
  std::string allow;
  for (const Route& r : routes) {
    if (req.path != r.path || (r.enabled && !r.enabled())) continue;
    const bool get = std::string_view(r.method) == "GET";
    if (req.method == r.method || (get && req.method == "HEAD")) return &r;
    allow += allow.empty() ? "" : ", ";
    allow += get ? "GET, HEAD" : r.method;
  }
  if (allow.empty()) {
    res.SetText(404, "404 not found\n");
  } else {
    res.AddHeader("Allow", allow);
    res.SetText(405, "405 method not allowed: use " + allow + "\n");
  }
  return nullptr;
}

HttpServer::HttpServer(HttpHandlers handlers, ConnectionLimits limits)
    : impl_(std::make_unique<Impl>(std::move(handlers), limits)) {
  // OpenSSL is set up before any server thread exists, so that its exit handler (registered
  // now) runs after the embedding program's own destructors have stopped this server: a
  // thread's OpenSSL state (basic auth hashes with it) is then freed, not left behind.
  OPENSSL_init_ssl(0, nullptr);
}

HttpServer::~HttpServer() { Stop(); }

std::expected<int, std::string> HttpServer::Start(const std::string& listen,
                                                  std::shared_ptr<const TlsIdentity> tls) {
  auto addr = ParseListenAddress(listen);
  if (!addr) return std::unexpected(addr.error());
  if (impl_->connections) return std::unexpected("the HTTP server is started already");
  if (tls) {
    impl_->tls_identity.Set(std::move(tls));
    impl_->ssl_ctx.reset(SSL_CTX_new(TLS_server_method()));
    std::string error = "cannot create a TLS context";
    if (!impl_->ssl_ctx || !SetupServerTlsContext(*impl_->ssl_ctx, impl_->tls_identity, error)) {
      impl_->ssl_ctx.reset();
      return std::unexpected("cannot set up TLS: " + error);
    }
  }
  auto listener = Listener::Open(addr->host, addr->port);
  if (!listener) {
    impl_->listen_errno = listener.error().error;
    return std::unexpected("cannot listen: " + listener.error().message);
  }
  impl_->listener = std::move(*listener);
  impl_->connections = std::make_unique<ConnectionManager>(
      impl_->limits, impl_->ssl_ctx.get(),
      [impl = impl_.get()](Connection& c, RequestParser& parser, bool last,
                           std::chrono::milliseconds write_timeout) {
        return ServeExchange(c, parser, last, write_timeout, impl->exchange);
      });
  impl_->listener->Start([impl = impl_.get()](int fd) { impl->connections->Adopt(fd); });
  return impl_->listener->port();
}

void HttpServer::Stop() {
  if (!impl_ || !impl_->connections) return;
  impl_->listener->Stop();
  impl_->connections->Stop();
}

void HttpServer::SetBasicAuth(std::shared_ptr<const BasicAuthChecker> auth) {
  std::lock_guard lock(impl_->mu);
  impl_->auth = std::move(auth);
}

bool HttpServer::SetTlsIdentity(std::shared_ptr<const TlsIdentity> identity) {
  if (!impl_->ssl_ctx || !identity) return false;
  impl_->tls_identity.Set(std::move(identity));
  return true;
}

void HttpServer::SetExtraHeaders(std::vector<std::pair<std::string, std::string>> headers) {
  auto shared =
      headers.empty() ? nullptr : std::make_shared<const Impl::Headers>(std::move(headers));
  std::lock_guard lock(impl_->mu);
  impl_->extra_headers = std::move(shared);
}

bool HttpServer::tls() const { return impl_->ssl_ctx != nullptr; }

int HttpServer::listen_errno() const { return impl_->listen_errno; }

ConnectionManager::Stats HttpServer::connection_stats() const {
  return impl_->connections ? impl_->connections->stats() : ConnectionManager::Stats{};
}

}  // namespace hdm
