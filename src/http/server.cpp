#include "http/server.h"

#include <pthread.h>

#include <charconv>

#include <httplib.h>
#include <spdlog/spdlog.h>

namespace hdm {
namespace {

constexpr const char* kExpositionType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kJsonType = "application/json";

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

void Plain(httplib::Response& res, int status, const std::string& text) {
  res.status = status;
  res.set_content(text, "text/plain; charset=utf-8");
}

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
  httplib::Server server;
  std::thread thread;
};

HttpServer::HttpServer(HttpHandlers handlers) : impl_(std::make_unique<Impl>()) {
  impl_->handlers = std::move(handlers);
  auto& s = impl_->server;
  const HttpHandlers& h = impl_->handlers;
  // Short keep-alive and read timeouts: an idle or silent client cannot hold a thread long,
  // and Stop() does not wait on a scraper's idle connection for more than this.
  s.set_keep_alive_timeout(2);
  s.set_tcp_nodelay(true);  // without it a kept-alive scrape waits ~40 ms on delayed ACKs
  s.set_read_timeout(5, 0);
  s.set_write_timeout(10, 0);
  s.set_payload_max_length(64 * 1024);

  s.Get("/metrics", [&h](const httplib::Request&, httplib::Response& res) {
    res.set_content(h.metrics(), kExpositionType);  // httplib gzips when the client asks
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

HttpServer::~HttpServer() { Stop(); }

std::expected<int, std::string> HttpServer::Start(const std::string& listen) {
  auto addr = ParseListenAddress(listen);
  if (!addr) return std::unexpected(addr.error());
  int port = addr->port;
  if (port == 0) {
    port = impl_->server.bind_to_any_port(addr->host);
  } else if (!impl_->server.bind_to_port(addr->host, port)) {
    port = -1;
  }
  if (port < 0) {
    return std::unexpected("cannot listen on " + listen +
                           ": address in use, not available or not permitted");
  }
  impl_->thread = std::thread([this] {
    pthread_setname_np(pthread_self(), "hdm-http");
    impl_->server.listen_after_bind();
  });
  return port;
}

void HttpServer::Stop() {
  if (!impl_) return;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace hdm
