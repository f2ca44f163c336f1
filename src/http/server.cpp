#include "http/server.h"

#include <pthread.h>
#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <mutex>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "http/accept_encoding.h"
#include "http/connection_manager.h"
#include "metrics/scrape_coalescer.h"

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

// The exposition, gzipped when the client allows it. Sent as a content provider of known length:
// httplib passes it on as is (it compresses only plain bodies and chunked providers), with no
// copy of the text.
void SendExposition(const httplib::Request& req, httplib::Response& res,
                    std::shared_ptr<const ScrapeCoalescer::Body> body) {
  const std::string* bytes = &body->text();
  if (AcceptsGzip(req.get_header_value("Accept-Encoding")) && !body->gzip().empty()) {
    bytes = &body->gzip();
    res.set_header("Content-Encoding", "gzip");
  }
  res.set_header("Vary", "Accept-Encoding");
  res.set_content_provider(bytes->size(), kExpositionType,
                           [body, bytes](size_t offset, size_t length, httplib::DataSink& sink) {
                             return sink.write(bytes->data() + offset, length);
                           });
}

void Plain(httplib::Response& res, int status, const std::string& text) {
  res.status = status;
  res.set_content(text, "text/plain; charset=utf-8");
}

// When the request that this thread serves arrived (see Connection::arrived).
thread_local Connection::Clock::time_point request_arrived;

// The /metrics body for a scrape that arrived at `arrived`: one that a scrape still in flight
// holds, when it was asked for after `arrived` (so it shows state from after that), else a new
// one from the coalescer. In a burst, scrapes queued for a worker so share one body instead of
// each batch of freed workers rendering, and holding while it is written, its own ~10 MB copy.
class RecentScrape {
 public:
  using Body = ScrapeCoalescer::Body;
  std::shared_ptr<const Body> Get(ScrapeCoalescer& scrapes, Connection::Clock::time_point arrived) {
    {
      std::lock_guard lock(mu_);
      if (auto body = body_.lock(); body && asked_at_ >= arrived) return body;
    }
    const auto asked = Connection::Clock::now();
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
  Connection::Clock::time_point asked_at_;
};

// httplib's accept loop hands each accepted socket to a task queue, whose task calls
// process_and_close_socket. Here that only gives the socket to the ConnectionManager, which
// never blocks: run it right there, on the accepting thread.
class InlineTaskQueue final : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

// An httplib::Server or SSLServer whose connections the ConnectionManager runs, instead of
// httplib's pool of 8 threads that each hold a connection for its whole life.
template <class Base>
class ManagedServer final : public Base {
 public:
  using Base::Base;

  void Manage(ConnectionManager* manager) {
    manager_ = manager;
    this->new_task_queue = [] { return new InlineTaskQueue; };
  }
  // One request on `c`, parsed, routed and answered by httplib.
  bool ServeOne(Connection& c, bool last, bool& client_closes) {
    request_arrived = c.arrived();
    return this->process_request(c, last, client_closes, nullptr);
  }
  // httplib listens with a backlog of 5: a burst of connections would see SYNs dropped (and
  // retried a second later). Call after binding.
  void DeepenBacklog() { ::listen(this->svr_sock_, SOMAXCONN); }

 private:
  bool process_and_close_socket(socket_t sock) override {
    manager_->Adopt(sock);
    return true;
  }

  ConnectionManager* manager_ = nullptr;
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
  TlsIdentitySlot tls_identity;  // before `server`: its SSL_CTX points here
  std::unique_ptr<httplib::Server> server;
  std::unique_ptr<ConnectionManager> connections;  // runs server's connections
  std::function<void()> deepen_backlog;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  bool tls = false;
  std::unique_ptr<ScrapeCoalescer> scrapes;  // renders handlers.metrics
  RecentScrape recent_scrape;

  mutable std::mutex mu;
  std::shared_ptr<const BasicAuthChecker> auth;  // Guarded by mu; null: open
  const ConnectionLimits limits;

  explicit Impl(ConnectionLimits l) : limits(l) {}
  // Makes `server` and `connections`: TLS when `ssl` (ManagedServer<httplib::SSLServer>).
  template <class S>
  void Manage(std::unique_ptr<ManagedServer<S>> s, SSL_CTX* ssl) {
    auto* typed = s.get();
    connections = std::make_unique<ConnectionManager>(
        limits, ssl, [typed](Connection& c, bool last, bool& client_closes) {
          return typed->ServeOne(c, last, client_closes);
        });
    typed->Manage(connections.get());
    deepen_backlog = [typed] { typed->DeepenBacklog(); };
    server = std::move(s);
  }

  std::shared_ptr<const BasicAuthChecker> Auth() const {
    std::lock_guard lock(mu);
    return auth;
  }
  void Route(httplib::Server& s);
};

void HttpServer::Impl::Route(httplib::Server& s) {
  const HttpHandlers& h = handlers;
  // Timeouts and keep-alive are the ConnectionManager's (limits).
  s.set_payload_max_length(64 * 1024);

  // Before routing: no handler, and no 404 that would tell which paths exist, without
  // credentials.
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    const auto checker = Auth();
    if (!checker || checker->Check(req.get_header_value("Authorization"))) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    spdlog::debug("HTTP {} {} from {}: 401, no valid credentials", req.method, req.path,
                  req.remote_addr);
    res.set_header("WWW-Authenticate", kAuthChallenge);
    Plain(res, 401, "401 unauthorized\n");
    return httplib::Server::HandlerResponse::Handled;
  });

  s.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
    SendExposition(req, res, recent_scrape.Get(*scrapes, request_arrived));
  });
  s.Get("/healthz", [&h](const httplib::Request&, httplib::Response& res) {
    if (h.alive()) {
      Plain(res, 200, "ok\n");
    } else {
      Plain(res, 503, "scheduler loop stalled\n");
    }
  });
  s.Get("/readyz", [&h](const httplib::Request&, httplib::Response& res) {
    if (h.ready()) {
      Plain(res, 200, "ready\n");
    } else {
      Plain(res, 503, "waiting for the first discovery\n");
    }
  });
  s.Post("/-/reload", [&h](const httplib::Request&, httplib::Response& res) {
    auto r = h.reload();
    if (r) {
      Plain(res, 200, "config reloaded\n");
    } else {
      Plain(res, 500, "reload failed: " + r.error() + "\n");
    }
  });
  s.Get("/api/v1/status", [&h](const httplib::Request&, httplib::Response& res) {
    res.set_content(h.status_json(), kJsonType);
  });
  s.Get("/api/v1/actions", [&h](const httplib::Request&, httplib::Response& res) {
    if (!h.actions_json) return Plain(res, 404, "no policy engine\n");
    res.set_content(h.actions_json(), kJsonType);
  });
  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kIndexPage, "text/html; charset=utf-8");
  });
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      res.set_content(res.status == 404 ? "404 not found\n" : std::to_string(res.status) + "\n",
                      "text/plain; charset=utf-8");
    }
  });
  s.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("HTTP handler for {} failed: {}", req.path, what);
        Plain(res, 500, "internal error\n");
      });
}

HttpServer::HttpServer(HttpHandlers handlers, ConnectionLimits limits)
    : impl_(std::make_unique<Impl>(limits)) {
  impl_->handlers = std::move(handlers);
  impl_->scrapes = std::make_unique<ScrapeCoalescer>(impl_->handlers.metrics);
}

HttpServer::~HttpServer() { Stop(); }

std::expected<int, std::string> HttpServer::Start(const std::string& listen,
                                                  std::shared_ptr<const TlsIdentity> tls) {
  auto addr = ParseListenAddress(listen);
  if (!addr) return std::unexpected(addr.error());
  if (impl_->server) return std::unexpected("the HTTP server is started already");
  if (tls) {
    impl_->tls_identity.Set(std::move(tls));
    std::string error;
    auto server = std::make_unique<ManagedServer<httplib::SSLServer>>(
        [&](SSL_CTX& ctx) { return SetupServerTlsContext(ctx, impl_->tls_identity, error); });
    if (!server->is_valid()) return std::unexpected("cannot set up TLS: " + error);
    SSL_CTX* ctx = server->ssl_context();
    impl_->Manage(std::move(server), ctx);
    impl_->tls = true;
  } else {
    impl_->Manage(std::make_unique<ManagedServer<httplib::Server>>(), nullptr);
  }
  impl_->Route(*impl_->server);
  int port = addr->port;
  if (port == 0) {
    port = impl_->server->bind_to_any_port(addr->host);
  } else if (!impl_->server->bind_to_port(addr->host, port)) {
    port = -1;
  }
  if (port < 0) {
    return std::unexpected("cannot listen on " + listen +
                           ": address in use, not available or not permitted");
  }
  impl_->deepen_backlog();
  impl_->thread = std::thread([this] {
    pthread_setname_np(pthread_self(), "hdm-http");
    impl_->server->listen_after_bind();
    impl_->listen_returned = true;
  });
  // httplib's stop() does nothing before the accept loop runs: wait for it, so that a Stop()
  // right after Start() cannot leave that loop running forever.
  while (!impl_->server->is_running() && !impl_->listen_returned) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return port;
}

void HttpServer::Stop() {
  if (!impl_ || !impl_->server) return;
  impl_->server->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->connections->Stop();
}

void HttpServer::SetBasicAuth(std::shared_ptr<const BasicAuthChecker> auth) {
  std::lock_guard lock(impl_->mu);
  impl_->auth = std::move(auth);
}

bool HttpServer::SetTlsIdentity(std::shared_ptr<const TlsIdentity> identity) {
  if (!impl_->tls || !identity) return false;
  impl_->tls_identity.Set(std::move(identity));
  return true;
}

bool HttpServer::tls() const { return impl_->tls; }

ConnectionManager::Stats HttpServer::connection_stats() const {
  return impl_->connections ? impl_->connections->stats() : ConnectionManager::Stats{};
}

}  // namespace hdm
