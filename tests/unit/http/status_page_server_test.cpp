// The status page's routes on a real HttpServer on 127.0.0.1:0: the headers that keep the page
// safe in a browser (CSP, nosniff), the filter and fragment reaching the handler, the script and
// stylesheet, and basic auth in front of all of them.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include <httplib.h>

#include "http/server.h"
#include "statuspage/assets.h"
#include "unit/http/bcrypt_hash.h"

namespace hdm {
namespace {

class StatusPageServerTest : public ::testing::Test {
 protected:
  HttpHandlers Handlers() {
    return {
        .metrics = [] { return std::string("up 1\n"); },
        .alive = [] { return true; },
        .ready = [] { return true; },
        .status_json = [] { return std::string("{}"); },
        .actions_json = [] { return std::string("[]"); },
        .reload = []() -> std::expected<void, std::string> { return {}; },
        .status_page =
            [this](const std::string& filter, bool fragment) {
              std::lock_guard lock(mu_);
              ++calls_;
              filter_ = filter;
              fragment_ = fragment;
              if (filter == "big") return std::string(100'000, 'x');
              return std::string(fragment ? "<div id=\"live\"></div>" : "<!doctype html>page");
            },
    };
  }
  httplib::Result Get(int port, const std::string& path, const httplib::Headers& headers = {}) {
    httplib::Client cli("127.0.0.1", port);
    cli.set_keep_alive(false);
    cli.set_read_timeout(2, 0);
    return cli.Get(path, headers);
  }

  std::mutex mu_;
  int calls_ = 0;  // Guarded by mu_.
  std::string filter_;
  bool fragment_ = false;
};

TEST_F(StatusPageServerTest, ThePageComesWithAStrictContentSecurityPolicy) {
  HttpServer server(Handlers());
  auto port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port.has_value()) << port.error();
  auto res = Get(*port, "/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "<!doctype html>page");
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
  const std::string csp = res->get_header_value("Content-Security-Policy");
  EXPECT_EQ(csp, statuspage::kContentSecurityPolicy);
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe"), std::string::npos);  // no 'unsafe-inline', no 'unsafe-eval'
  EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_FALSE(fragment_);
  EXPECT_EQ(filter_, "");
}

TEST_F(StatusPageServerTest, TheFilterAndTheFragmentReachTheHandlerDecoded) {
  HttpServer server(Handlers());
  auto port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port.has_value());
  auto res = Get(*port, "/?q=prod%20pg%3Cx%3E&fragment=1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "<div id=\"live\"></div>");
  EXPECT_EQ(res->get_header_value("Content-Security-Policy"), statuspage::kContentSecurityPolicy);
  std::lock_guard lock(mu_);
  EXPECT_EQ(filter_, "prod pg<x>");
  EXPECT_TRUE(fragment_);
}

TEST_F(StatusPageServerTest, ServesItsOwnScriptAndStylesheet) {
  HttpServer server(Handlers());
  auto port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port.has_value());
  auto js = Get(*port, "/status.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(js->body, statuspage::Script());
  EXPECT_NE(js->body.find("fragment=1"), std::string::npos);
  EXPECT_EQ(js->body.find("://"), std::string::npos);  // nothing from another origin
  auto css = Get(*port, "/status.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->status, 200);
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(css->body, statuspage::Style());
  EXPECT_EQ(css->body.find("url("), std::string::npos);
  auto icon = Get(*port, "/favicon.svg");
  ASSERT_TRUE(icon);
  EXPECT_EQ(icon->status, 200);
  EXPECT_EQ(icon->get_header_value("Content-Type"), "image/svg+xml");
}

TEST_F(StatusPageServerTest, BasicAuthGuardsThePageItsFragmentAndItsAssets) {
  HttpServer server(Handlers());
  auto auth = BasicAuthChecker::Create("prom", testing::MakeBcryptHash("secret"));
  ASSERT_TRUE(auth.has_value());
  server.SetBasicAuth(std::move(*auth));
  auto port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port.has_value());
  for (const char* path :
       {"/", "/?q=x", "/?fragment=1", "/status.js", "/status.css", "/favicon.svg"}) {
    SCOPED_TRACE(path);
    auto res = Get(*port, path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401);
    EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Basic realm=\"hotdata-monitor\"");
    res = Get(*port, path, {httplib::make_basic_authentication_header("prom", "secret")});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
  }
  std::lock_guard lock(mu_);
  EXPECT_EQ(calls_, 3);  // only the authenticated requests for / reached the handler
}

TEST_F(StatusPageServerTest, ALargePageIsGzippedWhenTheBrowserAllowsIt) {
  HttpServer server(Handlers());
  auto port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port.has_value());
  httplib::Client raw("127.0.0.1", *port);
  raw.set_decompress(false);
  auto res = raw.Get("/?q=big", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(res->get_header_value("Vary"), "Accept-Encoding");
  ASSERT_GE(res->body.size(), 2u);
  EXPECT_LT(res->body.size(), 10'000u);
  EXPECT_EQ(static_cast<unsigned char>(res->body[0]), 0x1f);  // gzip's magic
  EXPECT_EQ(static_cast<unsigned char>(res->body[1]), 0x8b);
  res = raw.Get("/?q=big", {{"Accept-Encoding", "identity"}});
  ASSERT_TRUE(res);
  EXPECT_FALSE(res->has_header("Content-Encoding"));
  EXPECT_EQ(res->body, std::string(100'000, 'x'));
  res = Get(*port, "/");  // small: as is
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "<!doctype html>page");
}

TEST_F(StatusPageServerTest, WithoutAPageHandlerTheRootListsTheEndpoints) {
  HttpHandlers handlers = Handlers();
  handlers.status_page = nullptr;
  HttpServer server(std::move(handlers));
  auto port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port.has_value());
  auto res = Get(*port, "/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("href=\"/metrics\""), std::string::npos);
  EXPECT_EQ(res->get_header_value("Content-Security-Policy"), statuspage::kContentSecurityPolicy);
}

}  // namespace
}  // namespace hdm
