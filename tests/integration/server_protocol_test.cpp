// The monitor's server as an HTTP/1.1 peer sees it, byte for byte: methods and routes, HEAD,
// refusals with their status, 100-continue, HTTP/1.0, and where it listens.
#include <gtest/gtest.h>

#include <string>

#include "http/server.h"
#include "integration/harness.h"
#include "integration/raw_client.h"

namespace hdm::testing {
namespace {

using std::chrono::milliseconds;

class ServerProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(HttpHandlers{
        .metrics = [] { return std::string("up 1\n"); },
        .alive = [] { return true; },
        .ready = [] { return false; },
        .status_json = [] { return std::string("{}"); },
        .actions_json = nullptr,
        .reload = [this]() -> std::expected<void, std::string> {
          ++reloads_;
          return {};
        },
    });
    auto port = server_->Start("127.0.0.1:0");
    ASSERT_TRUE(port.has_value()) << port.error();
    port_ = *port;
  }
  // Sends `request` on a new connection and reads until the server closes it (or 5 s).
  std::string Exchange(const std::string& request, bool* closed = nullptr) {
    RawClient c(port_);
    EXPECT_TRUE(c.Send(request));
    bool was_closed = false;
    std::string reply = c.Read(milliseconds(5'000), was_closed);
    if (closed != nullptr) *closed = was_closed;
    return reply;
  }

  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  int reloads_ = 0;
};

TEST_F(ServerProtocolTest, AnotherMethodOnAKnownPathIs405WithAllow) {
  const std::string reply = Exchange(
      "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 405 Method Not Allowed\r\n")) << reply;
  EXPECT_NE(reply.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos) << reply;
  const std::string get_reload =
      Exchange("GET /-/reload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(get_reload.find("\r\nAllow: POST\r\n"), std::string::npos) << get_reload;
  EXPECT_EQ(reloads_, 0);
  EXPECT_TRUE(Exchange("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                  .starts_with("HTTP/1.1 404 Not Found\r\n"));
}

TEST_F(ServerProtocolTest, HeadTellsTheLengthAndSendsNoBody) {
  const std::string reply =
      Exchange("HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 OK\r\n")) << reply;
  EXPECT_NE(reply.find("\r\nContent-Length: 5\r\n"), std::string::npos) << reply;
  EXPECT_NE(reply.find("\r\nDate: "), std::string::npos) << reply;
  EXPECT_TRUE(reply.ends_with("\r\n\r\n")) << "no body after the head: " << reply;
}

TEST_F(ServerProtocolTest, RefusalsCarryTheirStatusAndClose) {
  struct Case {
    std::string request;
    std::string status_line;
  };
  const std::vector<Case> cases = {
      {"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"},
      {"GET / HTTP/2.0\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported\r\n"},
      {"GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n", "HTTP/1.1 414 URI Too Long\r\n"},
      {"POST /-/reload HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
       "HTTP/1.1 501 Not Implemented\r\n"},
      // Refused from its Content-Length before the body is sent.
      {"POST /-/reload HTTP/1.1\r\nContent-Length: 100000\r\n\r\n",
       "HTTP/1.1 413 Content Too Large\r\n"},
  };
  for (const auto& c : cases) {
    bool closed = false;
    const std::string reply = Exchange(c.request, &closed);
    EXPECT_TRUE(reply.starts_with(c.status_line)) << c.request.substr(0, 60) << " -> " << reply;
    EXPECT_NE(reply.find("\r\nConnection: close\r\n"), std::string::npos) << reply;
    EXPECT_TRUE(closed) << c.request.substr(0, 60);
  }
  EXPECT_EQ(reloads_, 0);
}

TEST_F(ServerProtocolTest, ExpectContinueGetsTheInterimAnswerThenTheAnswer) {
  RawClient c(port_);
  ASSERT_TRUE(c.Send(
      "POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"));
  bool closed = false;
  const std::string interim = c.Read(milliseconds(5'000), closed, "\r\n\r\n");
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(c.Send("{}"));
  const std::string reply = c.Read(milliseconds(5'000), closed, "config reloaded\n");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 OK\r\n")) << reply;
  EXPECT_EQ(reloads_, 1);
}

TEST_F(ServerProtocolTest, Http10ClosesUnlessAskedToKeepAlive) {
  bool closed = false;
  const std::string reply = Exchange("GET /healthz HTTP/1.0\r\n\r\n", &closed);
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 OK\r\n")) << reply;
  EXPECT_TRUE(closed);
  RawClient keep(port_);
  ASSERT_TRUE(keep.Send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  const std::string first = keep.Read(milliseconds(5'000), closed, "ok\n");
  EXPECT_NE(first.find("\r\nConnection: keep-alive\r\n"), std::string::npos) << first;
  EXPECT_FALSE(closed);
  ASSERT_TRUE(keep.Send("GET /readyz HTTP/1.0\r\n\r\n"));
  const std::string second = keep.Read(milliseconds(5'000), closed);
  EXPECT_TRUE(second.starts_with("HTTP/1.1 503 ")) << second;
  EXPECT_TRUE(closed);
}

TEST(ServerListenTest, LocalhostMeansTheIpv4Loopback) {
  HttpServer server(HttpHandlers{
      .metrics = [] { return std::string("up 1\n"); },
      .alive = [] { return true; },
      .ready = [] { return true; },
      .status_json = [] { return std::string("{}"); },
      .actions_json = nullptr,
      .reload = []() -> std::expected<void, std::string> { return {}; },
  });
  auto port = server.Start("localhost:0");
  ASSERT_TRUE(port.has_value()) << port.error();
  RawClient c(*port);  // 127.0.0.1
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  bool closed = false;
  EXPECT_TRUE(c.Read(milliseconds(5'000), closed).starts_with("HTTP/1.1 200 OK\r\n"));
}

TEST(ServerListenTest, AnAddressInUseIsNamedAsTheSystemNamesIt) {
  HttpServer first(HttpHandlers{.metrics = [] { return std::string(); }});
  auto port = first.Start("127.0.0.1:0");
  ASSERT_TRUE(port.has_value());
  HttpServer second(HttpHandlers{.metrics = [] { return std::string(); }});
  auto again = second.Start("127.0.0.1:" + std::to_string(*port));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error(), "cannot listen: Address already in use");
}

}  // namespace
}  // namespace hdm::testing
