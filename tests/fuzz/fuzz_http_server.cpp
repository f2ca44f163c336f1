// The monitor's own HTTP server, fed raw request bytes: real hdm::HttpServers (RequestParser,
// the routes, basic auth, refusals and the handler's exception path) on 127.0.0.1:0,
// started once: one open, one with basic auth (user prometheus, password secret, a cheap
// bcrypt cost). Each input is written on a fresh connection, the write side is shut down, and
// the answer is read until the server closes. Properties:
//  - the server closes the connection promptly once the client has sent everything;
//  - whatever it answers is an HTTP/1.1 status line with a three-digit code, and the server
//    with basic auth answers nothing but 401 to a request without the right credentials;
//  - no handler throws (the exception handler's "internal error" never appears);
//  - the servers keep answering: a well-formed GET /healthz every 256 inputs gets 200.
// A request cut short by the client's half-close gets no answer (the server closes), so for some
// inputs the answer is empty: parsing still ran. The input's length picks the server (bit 1) and flips the handlers between
// their two outcomes (bit 0: alive or stalled, ready or not, reload succeeding or failing), so
// every path is reachable and each input is deterministic.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <expected>
#include <string>

#include <spdlog/spdlog.h>

#include "fuzz_support.h"
#include "http/basic_auth.h"
#include "http/server.h"

namespace {

// More than the server's read timeout (5 s) would mean it waits on a client that sent EOF.
constexpr auto kCloseDeadline = std::chrono::seconds(4);
constexpr size_t kMaxAnswer = 4 << 20;

std::atomic<bool> g_good{true};

std::string Exposition() {
  std::string out =
      "# HELP hotdata_connection_up Whether the last check answered.\n"
      "# TYPE hotdata_connection_up gauge\n";
  for (int i = 0; i < 64; ++i) {
    out += "hotdata_connection_up{id=\"conn_" + std::to_string(i) + "\",name=\"prod-pg-" +
           std::to_string(i) + "\"} 1\n";
  }
  return out;
}

// bcrypt of "secret" at cost 4: a wrong password costs about a millisecond, not 50.
constexpr const char* kUser = "prometheus";
constexpr const char* kHash = "$2b$04$Oc6Wo9.TDSLmS1H.QQr9a.5o85Ks3V73twj/XAO7UXkYBhOAQkxIW";
constexpr const char* kGoodAuthorization = "Basic cHJvbWV0aGV1czpzZWNyZXQ=";  // prometheus:secret

struct Fixture {
  hdm::HttpServer server;
  int port = 0;

  explicit Fixture(bool basic_auth)
      : server(hdm::HttpHandlers{
            .metrics = [] { return Exposition(); },
            .alive = [] { return g_good.load(); },
            .ready = [] { return g_good.load(); },
            .status_json = [] { return std::string(R"({"connections":[]})"); },
            .actions_json = [] { return std::string(R"({"actions":[]})"); },
            .reload = []() -> std::expected<void, std::string> {
              if (g_good) return {};
              return std::unexpected("fuzz.yaml:1:1: api.base_url: required key is missing");
            },
        }) {
    if (basic_auth) {
      auto checker = hdm::BasicAuthChecker::Create(kUser, kHash);
      if (!checker) {
        std::fprintf(stderr, "cannot set up basic auth: %s\n", checker.error().c_str());
        std::abort();
      }
      server.SetBasicAuth(std::move(*checker));
    }
    auto started = server.Start("127.0.0.1:0");
    if (!started) {
      std::fprintf(stderr, "cannot start the server: %s\n", started.error().c_str());
      std::abort();
    }
    port = *started;
  }
};

Fixture& OpenServer() {
  static Fixture fixture(false);  // stopped and joined by its destructor at exit
  return fixture;
}
Fixture& AuthServer() {
  static Fixture fixture(true);
  return fixture;
}

// Each exchange leaves a TIME_WAIT socket on the client side (it closes first): at thousands of
// exchanges a second one source address runs out of ephemeral ports within a minute, so the
// client rotates over 127.0.0.2-127.0.0.251 (all loopback) and picks its port at connect().
int Connect(int port) {
  static uint32_t next_source = 0;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  FUZZ_CHECK(fd >= 0, "socket");
  const int one = 1;
  ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  sockaddr_in source{};
  source.sin_family = AF_INET;
  source.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + next_source++ % 250);
  FUZZ_CHECK(::bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof source) == 0,
             std::string("bind: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // libFuzzer's timer (SIGALRM) may interrupt any of these calls: EINTR is not a finding.
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    FUZZ_CHECK(errno == EINTR,
               std::string("connect to the server failed: ") + std::strerror(errno));
    pollfd p{.fd = fd, .events = POLLOUT, .revents = 0};
    while (::poll(&p, 1, -1) < 0) FUZZ_CHECK(errno == EINTR, "poll");
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    FUZZ_CHECK(error == 0, std::string("connect to the server failed: ") + std::strerror(error));
  }
  return fd;
}

// Sends `request`, half-closes unless told not to, and returns everything the server wrote
// before closing.
std::string Exchange(int port, std::string_view request, bool half_close = true) {
  const int fd = Connect(port);
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server may close early (e.g. 413 on a large body)
    sent += static_cast<size_t>(n);
  }
  if (half_close) ::shutdown(fd, SHUT_WR);
  std::string answer;
  const auto deadline = std::chrono::steady_clock::now() + kCloseDeadline;
  char buf[16384];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (ready < 0 && errno == EINTR) continue;
    FUZZ_CHECK(ready > 0, "the server did not close the connection within 4 s; answer so far: " +
                              answer.substr(0, 200));
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF, or a reset after the server's early close
    answer.append(buf, static_cast<size_t>(n));
    FUZZ_CHECK(answer.size() <= kMaxAnswer, "answer larger than 4 MiB");
  }
  ::close(fd);
  return answer;
}

bool IsStatusLine(std::string_view answer) {
  if (!answer.starts_with("HTTP/1.1 ") || answer.size() < 12) return false;
  for (size_t i = 9; i < 12; ++i) {
    if (answer[i] < '0' || answer[i] > '9') return false;
  }
  return answer[9] >= '1' && answer[9] <= '5';
}

// The good credentials anywhere in the request, after the scheme in any case ("BAsic" is
// "Basic": RFC 7235 auth-schemes are case-insensitive); the credentials themselves exactly.
bool HasGoodCredentials(std::string_view request) {
  const std::string_view good = kGoodAuthorization;
  const std::string_view scheme = good.substr(0, good.find(' ') + 1);  // "Basic "
  const std::string_view credentials = good.substr(scheme.size());
  for (size_t at = request.find(credentials); at != std::string_view::npos;
       at = request.find(credentials, at + 1)) {
    if (at < scheme.size()) continue;
    const std::string_view before = request.substr(at - scheme.size(), scheme.size());
    if (std::ranges::equal(before, scheme, [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return true;
    }
  }
  return false;
}

void CheckAlive(Fixture& f, const std::string& auth_header) {
  g_good = true;
  const std::string health = Exchange(
      f.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n" + auth_header + "Connection: close\r\n\r\n",
      /*half_close=*/false);
  FUZZ_CHECK(health.starts_with("HTTP/1.1 200"),
             "/healthz after fuzzing: " + health.substr(0, 200));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // the exception handler's log line is not a finding
  OpenServer();
  AuthServer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static uint64_t runs = 0;
  const std::string_view request = hdm::fuzz::AsText(data, size);
  const bool with_auth = (size & 2) != 0;
  g_good = (size & 1) == 0;
  const std::string answer = Exchange((with_auth ? AuthServer() : OpenServer()).port, request);
  if (!answer.empty()) {
    FUZZ_CHECK(IsStatusLine(answer), "not an HTTP/1.1 status line: " + answer.substr(0, 200));
    FUZZ_CHECK(answer.find("\r\n\r\n") != std::string::npos, "no end of headers");
    FUZZ_CHECK(answer.find("internal error\n") == std::string::npos,
               "a handler threw: " + answer.substr(0, 300));
    if (with_auth && !HasGoodCredentials(request)) {
      // 400, 413, 414...: the parser may refuse the request before authentication; 2xx never.
      // A later answer on the connection starts after the previous one's body, which always
      // ends in a line feed (or, for HEAD, its head does); a refusal may quote the request
      // line, but never a line feed, so "HTTP/1.1 2" inside a quote is not an answer.
      FUZZ_CHECK(answer[9] != '2' && answer.find("\nHTTP/1.1 2") == std::string::npos,
                 "answered without credentials: " + answer.substr(0, 300));
    }
  }
  if (++runs % 256 == 0) {
    CheckAlive(OpenServer(), "");
    CheckAlive(AuthServer(), std::string("Authorization: ") + kGoodAuthorization + "\r\n");
  }
  return 0;
}
