// POST /api/v1/alerts in HttpServer (issue #15), in-process with stub handlers and raw HTTP on
// 127.0.0.1: the route exists only while alerts_enabled() says so, takes POST only, has its own
// body limit (checked from Content-Length before any body byte is read, or as a chunked body
// grows; answered by alerts_too_large), and sits behind basic auth like every other path.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include <httplib.h>

#include "http/server.h"
#include "integration/raw_client.h"
#include "unit/http/bcrypt_hash.h"

namespace hdm {
namespace {

using namespace std::chrono_literals;
using hdm::testing::RawClient;

constexpr size_t kLimit = 1024 * 1024;  // as the daemon's (webhook::kMaxBodyBytes)
constexpr char kUser[] = "alertmanager";
constexpr char kPassword[] = "s3cret webhook";

struct Reply {
  int status = -1;
  std::string head;  // status line and header fields
  std::string body;
  bool closed = false;  // the server closed the connection after answering

  // The value of header field `name` (exact case as the server writes it); "" when absent.
  std::string Header(const std::string& name) const {
    const std::string key = "\r\n" + name + ": ";
    const size_t at = head.find(key);
    if (at == std::string::npos) return "";
    const size_t from = at + key.size();
    return head.substr(from, head.find("\r\n", from) - from);
  }
};

// The response from `client`, read until the server closes the connection (every request here
// asks for the close, or is refused, which closes it) or `limit` passes.
Reply ReadReply(RawClient& client, std::chrono::milliseconds limit = 5s) {
  Reply r;
  const std::string in = client.Read(limit, r.closed);
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos || !in.starts_with("HTTP/1.1 ")) return r;
  r.head = in.substr(0, end);
  r.status = std::stoi(in.substr(9, 3));
  r.body = in.substr(end + 4);
  return r;
}

// One request on a fresh connection: `head_fields` (each ending in CRLF) and `body` as given.
Reply Exchange(int port, const std::string& request_line, const std::string& head_fields,
               const std::string& body = "") {
  RawClient client(port);
  EXPECT_TRUE(client.connected());
  EXPECT_TRUE(client.Send(request_line + "\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                          head_fields + "\r\n" + body));
  return ReadReply(client);
}

Reply Post(int port, const std::string& body, const std::string& extra_fields = "") {
  return Exchange(port, "POST /api/v1/alerts HTTP/1.1",
                  "Content-Type: application/json\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n" + extra_fields,
                  body);
}

std::string AuthField(const std::string& user, const std::string& password) {
  const auto [name, value] = httplib::make_basic_authentication_header(user, password);
  return name + ": " + value + "\r\n";
}

class AlertsRouteTest : public ::testing::Test {
 protected:
  HttpHandlers Handlers() {
    return {
        .metrics = [] { return std::string("up 1\n"); },
        .alive = [] { return true; },
        .ready = [] { return true; },
        .status_json = [] { return std::string("{}"); },
        .actions_json = [] { return std::string("[]"); },
        .reload = []() -> std::expected<void, std::string> { return {}; },
        .alerts_enabled = [this] { return enabled_.load(); },
        .alerts =
            [this](const Request& req, Response& res) {
              {
                std::lock_guard lock(mu_);
                last_body_ = req.body;
              }
              ++handled_;
              res.SetContent("{\"status\":\"ok\"}\n", "application/json");
            },
        .alerts_too_large =
            [this](std::optional<uint64_t> size, Response& res) {
              too_large_size_ = size.value_or(0);
              ++too_large_;
              res.SetText(413, "too large: " + (size ? std::to_string(*size) : "chunked") + "\n");
            },
        .alerts_max_body = kLimit,
    };
  }
  int Start(HttpServer& server) {
    auto port = server.Start("127.0.0.1:0");
    EXPECT_TRUE(port.has_value()) << port.error();
    return port.value_or(0);
  }
  std::string LastBody() {
    std::lock_guard lock(mu_);
    return last_body_;
  }

  std::atomic<bool> enabled_{true};
  std::atomic<int> handled_{0};
  std::atomic<int> too_large_{0};
  std::atomic<uint64_t> too_large_size_{0};
  std::mutex mu_;
  std::string last_body_;
};

TEST_F(AlertsRouteTest, WhileDisabledThePathDoesNotExistForAnyMethod) {
  enabled_ = false;
  HttpServer server(Handlers());
  const int port = Start(server);
  EXPECT_EQ(Post(port, "{}").status, 404);
  EXPECT_EQ(Exchange(port, "GET /api/v1/alerts HTTP/1.1", "").status, 404);
  EXPECT_EQ(Exchange(port, "HEAD /api/v1/alerts HTTP/1.1", "").status, 404);
  // A body the route would refuse as too large is not read either: 404 from the head alone.
  EXPECT_EQ(Exchange(port, "POST /api/v1/alerts HTTP/1.1", "Content-Length: 50000000\r\n").status,
            404);
  EXPECT_EQ(handled_.load(), 0);
  EXPECT_EQ(too_large_.load(), 0);
  EXPECT_EQ(Exchange(port, "GET /metrics HTTP/1.1", "").status, 200);  // the rest is served
}

TEST_F(AlertsRouteTest, WithoutTheHandlersThePathDoesNotExist) {
  HttpHandlers h = Handlers();
  h.alerts = nullptr;  // alerts_enabled() says true, but there is nothing to serve it
  HttpServer server(std::move(h));
  const int port = Start(server);
  EXPECT_EQ(Post(port, "{}").status, 404);
  EXPECT_EQ(too_large_.load(), 0);
}

TEST_F(AlertsRouteTest, EnablingAndDisablingAtRuntimeTakesEffectAtTheNextRequest) {
  enabled_ = false;
  HttpServer server(Handlers());
  const int port = Start(server);
  EXPECT_EQ(Post(port, R"({"version":"4"})").status, 404);
  EXPECT_EQ(handled_.load(), 0);

  enabled_ = true;  // a reload added an alert policy
  const Reply ok = Post(port, R"({"version":"4"})");
  EXPECT_EQ(ok.status, 200) << ok.head;
  EXPECT_EQ(ok.body, "{\"status\":\"ok\"}\n");
  EXPECT_EQ(ok.Header("Content-Type"), "application/json");
  EXPECT_EQ(handled_.load(), 1);
  EXPECT_EQ(LastBody(), R"({"version":"4"})");

  enabled_ = false;  // and a reload took it away again
  EXPECT_EQ(Post(port, R"({"version":"4"})").status, 404);
  EXPECT_EQ(handled_.load(), 1);
}

TEST_F(AlertsRouteTest, OtherMethodsOnTheEnabledRouteGet405WithAllowPost) {
  HttpServer server(Handlers());
  const int port = Start(server);
  for (const char* method : {"GET", "HEAD", "PUT", "DELETE"}) {
    SCOPED_TRACE(method);
    const Reply r = Exchange(port, std::string(method) + " /api/v1/alerts HTTP/1.1", "");
    EXPECT_EQ(r.status, 405) << r.head;
    EXPECT_EQ(r.Header("Allow"), "POST");
  }
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(AlertsRouteTest, AContentLengthOverTheLimitIsAnsweredFromTheHeadAlone) {
  HttpServer server(Handlers());
  const int port = Start(server);
  // Only the head: no body byte is ever sent, and the answer comes anyway (then the close).
  RawClient client(port);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(
      client.Send("POST /api/v1/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n"));
  const Reply r = ReadReply(client);
  EXPECT_EQ(r.status, 413) << r.head;
  EXPECT_EQ(r.body, "too large: 10000000000\n");
  EXPECT_TRUE(r.closed);  // the unread body is not taken for a next request
  EXPECT_EQ(too_large_.load(), 1);
  EXPECT_EQ(too_large_size_.load(), 10'000'000'000u);
  EXPECT_EQ(handled_.load(), 0);

  // One byte over the limit is over; exactly the limit is not (and then the body is read).
  const Reply over = Exchange(port, "POST /api/v1/alerts HTTP/1.1",
                              "Content-Length: " + std::to_string(kLimit + 1) + "\r\n");
  EXPECT_EQ(over.status, 413);
  EXPECT_EQ(too_large_size_.load(), kLimit + 1);
  EXPECT_EQ(Post(port, std::string(kLimit, 'a')).status, 200);
  EXPECT_EQ(handled_.load(), 1);
  EXPECT_EQ(LastBody().size(), kLimit);
  EXPECT_EQ(too_large_.load(), 2);
}

TEST_F(AlertsRouteTest, ABodyOverTheServersDefaultLimitButWithinTheRoutesIsAccepted) {
  HttpServer server(Handlers());
  const int port = Start(server);
  const std::string body(200 * 1024, 'x');  // over RequestLimits' 64 KiB
  const Reply r = Post(port, body);
  EXPECT_EQ(r.status, 200) << r.head << "\n" << r.body;
  EXPECT_EQ(handled_.load(), 1);
  EXPECT_EQ(LastBody(), body);
  EXPECT_EQ(too_large_.load(), 0);
  // Other paths keep the server's default limit.
  // (Only the head is sent: the server does not read a body it refused.)
  const Reply other = Exchange(port, "POST /-/reload HTTP/1.1", "Content-Length: 204800\r\n");
  EXPECT_EQ(other.status, 413) << other.head;
}

TEST_F(AlertsRouteTest, TheRoutesLimitIsForItsOwnRequestOnlyNotTheNextOnTheConnection) {
  HttpServer server(Handlers());
  const int port = Start(server);
  RawClient client(port);
  ASSERT_TRUE(client.connected());
  const std::string body(200 * 1024, 'x');
  ASSERT_TRUE(client.Send("POST /api/v1/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body));
  bool closed = false;
  const std::string first = client.Read(5s, closed, "{\"status\":\"ok\"}\n");
  EXPECT_TRUE(first.starts_with("HTTP/1.1 200 ")) << first.substr(0, 200);
  ASSERT_FALSE(closed);
  // The same connection, another path: the server's default limit again.
  ASSERT_TRUE(
      client.Send("POST /-/reload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n"));
  const Reply second = ReadReply(client);
  EXPECT_EQ(second.status, 413) << second.head;
  EXPECT_EQ(handled_.load(), 1);
}

TEST_F(AlertsRouteTest, AChunkedBodyWithinTheLimitIsAcceptedAndOneOverItGetsTheRoutes413) {
  HttpServer server(Handlers());
  const int port = Start(server);
  // Three chunks of 100 KiB: over the default 64 KiB, within the route's limit.
  const std::string chunk(100 * 1024, 'c');
  std::string chunked;
  for (int i = 0; i < 3; ++i) chunked += "19000\r\n" + chunk + "\r\n";
  chunked += "0\r\n\r\n";
  const Reply ok =
      Exchange(port, "POST /api/v1/alerts HTTP/1.1", "Transfer-Encoding: chunked\r\n", chunked);
  EXPECT_EQ(ok.status, 200) << ok.head << "\n" << ok.body;
  EXPECT_EQ(LastBody().size(), 3 * chunk.size());
  EXPECT_EQ(handled_.load(), 1);

  // A chunk that would take the body over the limit: refused when its size line arrives, before
  // its data (which is never sent here).
  RawClient client(port);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(
      client.Send("POST /api/v1/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n"
                  "80000\r\n" +
                  std::string(0x80000, 'a') + "\r\n80001\r\n"));
  const Reply over = ReadReply(client);
  EXPECT_EQ(over.status, 413) << over.head;
  // The route's own answer (and counting), as for a Content-Length over the limit; the size is
  // not known.
  EXPECT_EQ(over.body, "too large: chunked\n");
  EXPECT_TRUE(over.closed);
  EXPECT_EQ(handled_.load(), 1);
  EXPECT_EQ(too_large_.load(), 1);
  EXPECT_EQ(too_large_size_.load(), 0u);

  // Another path's chunked body over the server's default limit keeps the parser's answer.
  RawClient other(port);
  ASSERT_TRUE(other.connected());
  ASSERT_TRUE(
      other.Send("POST /-/reload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n"
                 "20000\r\n"));
  const Reply parser = ReadReply(other);
  EXPECT_EQ(parser.status, 413) << parser.head;
  EXPECT_NE(parser.body.find("chunked body more than the 65536 bytes allowed"), std::string::npos)
      << parser.body;
  EXPECT_EQ(too_large_.load(), 1);
}

TEST_F(AlertsRouteTest, BasicAuthComesFirstEvenForABodyTooLarge) {
  HttpServer server(Handlers());
  auto checker = BasicAuthChecker::Create(kUser, hdm::testing::MakeBcryptHash(kPassword));
  ASSERT_TRUE(checker.has_value()) << checker.error();
  server.SetBasicAuth(std::move(*checker));
  const int port = Start(server);

  const Reply anonymous = Post(port, "{}");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.Header("WWW-Authenticate"), "Basic realm=\"hotdata-monitor\"");
  EXPECT_EQ(Post(port, "{}", AuthField(kUser, "wrong")).status, 401);
  // Without credentials a body over the limit gets 401, not 413: nothing about the route (not
  // even its limit) is told to a client that did not authenticate.
  const Reply huge = Exchange(port, "POST /api/v1/alerts HTTP/1.1", "Content-Length: 50000000\r\n");
  EXPECT_EQ(huge.status, 401) << huge.head;
  EXPECT_EQ(too_large_.load(), 0);
  EXPECT_EQ(handled_.load(), 0);
  // Disabled, unauthenticated: 401 as well (no 404 telling that the path is not there).
  enabled_ = false;
  EXPECT_EQ(Post(port, "{}").status, 401);
  enabled_ = true;

  EXPECT_EQ(Post(port, "{}", AuthField(kUser, kPassword)).status, 200);
  EXPECT_EQ(handled_.load(), 1);
  const Reply huge_authenticated =
      Exchange(port, "POST /api/v1/alerts HTTP/1.1",
               "Content-Length: 50000000\r\n" + AuthField(kUser, kPassword));
  EXPECT_EQ(huge_authenticated.status, 413);
  EXPECT_EQ(too_large_.load(), 1);
  EXPECT_EQ(handled_.load(), 1);
}

}  // namespace
}  // namespace hdm
