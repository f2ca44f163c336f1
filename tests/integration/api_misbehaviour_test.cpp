// The HTTP client and the daemon against a Hotdata API that answers badly: dripped byte by byte,
// stopped halfway, too large, or not HTTP at all (FakeRawServer); rate limiting or down for many
// rounds (FakeHotdataServer). Every failure is the right ErrorKind, comes within the timeout,
// is retried only when no answer came, and fires no policy.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>

#include "fakes/fake_raw.h"
#include "hotdata/http_client.h"
#include "integration/harness.h"
#include "unit/hotdata/client_fixture.h"

namespace hdm::testing {
namespace {

using namespace std::chrono_literals;
using fake::Drip;
using fake::RawAnswer;
using fake::RawEnd;
using hotdata::ErrorKind;
using hotdata::testing::RecordingObserver;
using hotdata::testing::Since;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kTimeout{500};
constexpr int kAttempts = 2;
constexpr milliseconds kMaxBackoff{40};
// A call that did not hang ends within this: every attempt's timeout, the backoffs, and slack.
constexpr auto kBound = kAttempts * kTimeout + kMaxBackoff + 3s;
constexpr size_t kMaxBody = 4096;

const std::string kHealthy = R"({"connection_id":"c1","healthy":true,"latency_ms":3})";

std::vector<std::string> Repeat(const std::string& code, size_t n) {
  return std::vector<std::string>(n, code);
}

// `body` as a chunked answer: chunks of 16 bytes, each with a chunk extension, then a trailer.
std::string ChunkedAnswer(const std::string& body) {
  std::string out =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t i = 0; i < body.size(); i += 16) {
    const std::string piece = body.substr(i, 16);
    char size[32];
    std::snprintf(size, sizeof size, "%zx;ext=\"v\"\r\n", piece.size());
    out += size + piece + "\r\n";
  }
  return out + "0\r\nX-Checksum: none\r\n\r\n";
}

// The client against a FakeRawServer: 500 ms per attempt, two attempts, 4 KiB bodies at most.
class RawClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_GT(raw_.Start(), 0); }

  std::unique_ptr<hotdata::HotdataApi> Client(milliseconds timeout = kTimeout) {
    hotdata::ClientOptions o;
    o.base_url = raw_.base_url();
    o.token = kToken;
    o.timeout = timeout;
    o.attempts = kAttempts;
    o.backoff = 10ms;
    o.max_backoff = kMaxBackoff;
    o.max_body_bytes = kMaxBody;
    o.observer = &observer_;
    return hotdata::MakeHttpClient(o);
  }
  // Checks c1's health with `api` (a fresh client when null); elapsed_ gets how long it took.
  hotdata::ApiResult<hotdata::HealthResponse> Check(hotdata::HotdataApi* api = nullptr) {
    std::unique_ptr<hotdata::HotdataApi> fresh;
    if (api == nullptr) {
      fresh = Client();
      api = fresh.get();
    }
    const auto start = Clock::now();
    auto r = api->CheckHealth("c1");
    elapsed_ = Since(start);
    return r;
  }
  void ExpectTimeout(const hotdata::ApiResult<hotdata::HealthResponse>& r) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kTimeout) << r.error().ToString();
    EXPECT_EQ(r.error().MetricCode(), "timeout");
    EXPECT_TRUE(r.error().message.starts_with("after 500ms")) << r.error().message;
    EXPECT_LT(elapsed_, kBound);
    for (const auto& code : observer_.Codes()) EXPECT_EQ(code, "timeout");
  }

  fake::FakeRawServer raw_;
  RecordingObserver observer_;
  milliseconds elapsed_{0};
};

using SlowAnswerTest = RawClientTest;

TEST_F(SlowAnswerTest, HeadersDrippedPastTheTimeoutTimeOut) {
  // 60 bytes of status line and headers, one every 100 ms: 6 s, far past the 500 ms timeout.
  const std::string answer = RawAnswer(200, kHealthy);
  raw_.Script({.steps = {Drip(answer.substr(0, 60), 100ms), {.bytes = answer.substr(60)}}});
  ExpectTimeout(Check());
}

TEST_F(SlowAnswerTest, BodyDrippedPastTheTimeoutTimesOut) {
  const std::string answer = RawAnswer(200, kHealthy);
  const size_t head = answer.size() - kHealthy.size();
  raw_.Script({.steps = {{.bytes = answer.substr(0, head)}, Drip(kHealthy, 100ms)}});
  ExpectTimeout(Check());
}

TEST_F(SlowAnswerTest, AnswerDrippedByteByByteWithinTheTimeoutSucceedsAndKeepsTheConnection) {
  // Every byte its own segment: "\r" and "\n" come in separate reads.
  raw_.Script({.steps = {Drip(RawAnswer(200, kHealthy), 2ms)}, .end = RawEnd::kKeepAlive});
  auto api = Client(5s);
  for (int i = 0; i < 2; ++i) {
    auto r = Check(api.get());
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_TRUE(r->healthy);
    EXPECT_EQ(r->latency_ms, 3);
  }
  const auto requests = raw_.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].connection, requests[0].connection);  // nothing left unread on it
  EXPECT_EQ(requests[0].line, "GET /v1/connections/c1/health HTTP/1.1");
}

TEST_F(SlowAnswerTest, ChunkedAnswerWithExtensionsAndTrailerDrippedByteByByteSucceeds) {
  raw_.Script({.steps = {Drip(ChunkedAnswer(kHealthy), 2ms)}, .end = RawEnd::kKeepAlive});
  auto api = Client(5s);
  for (int i = 0; i < 2; ++i) {
    auto r = Check(api.get());
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->connection_id, "c1");
  }
  const auto requests = raw_.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].connection, requests[0].connection);
}

const std::string kHalfHead =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";

TEST_F(SlowAnswerTest, HalfAnAnswerThenSilenceTimesOutIsNotRetriedAndTheSocketIsDropped) {
  raw_.Script({.steps = {{.bytes = RawAnswer(200, kHealthy)}}, .end = RawEnd::kKeepAlive});
  raw_.Script(
      {.steps = {{.bytes = kHalfHead + std::string(500, ' ')}}, .end = RawEnd::kHold, .times = 1});
  auto api = Client();
  ExpectTimeout(Check(api.get()));
  EXPECT_EQ(raw_.Requests().size(), 1u);
  // The half-read connection is closed, not kept for the next call.
  EXPECT_TRUE(WaitFor([&] { return raw_.OpenSockets() == 0; }, 2s));
  auto next = Check(api.get());
  ASSERT_TRUE(next) << next.error().ToString();
  const auto requests = raw_.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].connection, 2);
}

TEST_F(SlowAnswerTest, HalfAnAnswerThenCloseIsALostConnectionAndNotRetried) {
  raw_.Script({.steps = {{.bytes = kHalfHead + std::string(500, ' ')}}, .end = RawEnd::kClose});
  auto r = Check();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kConnection) << r.error().ToString();
  EXPECT_NE(r.error().message.find("connection lost while reading the answer"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(raw_.Requests().size(), 1u);
  EXPECT_EQ(observer_.Codes(), Repeat("connection_error", 1));
}

TEST_F(SlowAnswerTest, ACloseBeforeAnyByteIsRetried) {
  raw_.Script({.steps = {{.bytes = RawAnswer(200, kHealthy)}}});
  raw_.Script({.end = RawEnd::kClose, .times = 1});
  auto r = Check();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(raw_.Requests().size(), 2u);
  EXPECT_EQ(observer_.Codes(), (std::vector<std::string>{"connection_error", "200"}));
}

TEST_F(SlowAnswerTest, ACloseBeforeAnyByteEveryTimeFailsAfterEveryAttempt) {
  raw_.Script({.end = RawEnd::kClose});
  auto r = Check();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kConnection) << r.error().ToString();
  EXPECT_EQ(raw_.Requests().size(), static_cast<size_t>(kAttempts));
  EXPECT_EQ(observer_.Codes(), Repeat("connection_error", kAttempts));
}

// An answer larger than max_body_bytes, as the head announces it and the filler streams it.
struct Oversized {
  std::string name;
  std::string head;
  std::string filler;
};

void PrintTo(const Oversized& o, std::ostream* os) { *os << o.name; }

class OversizedAnswerTest : public RawClientTest,
                            public ::testing::WithParamInterface<Oversized> {};

TEST_P(OversizedAnswerTest, IsAnInvalidResponseAndTheClientStopsReading) {
  raw_.Script(
      {.steps = {{.bytes = GetParam().head}}, .end = RawEnd::kStream, .filler = GetParam().filler});
  auto r = Check();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidResponse) << r.error().ToString();
  EXPECT_EQ(r.error().message, "body larger than 4096 bytes");
  EXPECT_LT(elapsed_, kBound);
  EXPECT_EQ(raw_.Requests().size(), 1u);
  EXPECT_EQ(observer_.Codes(), Repeat("invalid_response", 1));
  // The endless stream ends because the client closed its end.
  EXPECT_TRUE(WaitFor([&] { return raw_.OpenSockets() == 0; }, 2s));
}

INSTANTIATE_TEST_SUITE_P(
    Framings, OversizedAnswerTest,
    ::testing::Values(Oversized{"content_length",
                                "HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n", "x"},
                      Oversized{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                                "400\r\n" + std::string(1024, 'x') + "\r\n"},
                      Oversized{"close_delimited",
                                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n", "x"}),
    [](const ::testing::TestParamInfo<Oversized>& info) { return info.param.name; });

TEST_F(RawClientTest, ABodyOfExactlyTheLimitIsAcceptedAndOneByteMoreIsNot) {
  std::string body = kHealthy;
  body.resize(kMaxBody, ' ');  // JSON allows trailing whitespace
  raw_.Script({.steps = {{.bytes = RawAnswer(200, body)}}, .times = 1});
  auto fits = Check();
  ASSERT_TRUE(fits) << fits.error().ToString();

  raw_.Script({.steps = {{.bytes = RawAnswer(200, body + " ")}}});
  auto over = Check();
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().kind, ErrorKind::kInvalidResponse);
  EXPECT_EQ(over.error().message, "body larger than 4096 bytes");
}

// Bytes that are not an HTTP answer; the server then holds the connection in silence.
struct Garbage {
  std::string name;
  std::string bytes;
};

void PrintTo(const Garbage& g, std::ostream* os) { *os << g.name; }

// A TLS record header, a NUL, bytes that are not text; lines end so that a parser that waits
// for the blank line sees it too.
constexpr char kBinary[] = "\x16\x03\x01\x00\xff\x80garbage\x00\x7f\r\n\r\n";

class GarbageAnswerTest : public RawClientTest, public ::testing::WithParamInterface<Garbage> {};

TEST_P(GarbageAnswerTest, IsAMalformedAnswerAtOnceAndNotRetried) {
  raw_.Script({.steps = {{.bytes = GetParam().bytes}}, .end = RawEnd::kHold});
  auto r = Check();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidResponse) << r.error().ToString();
  EXPECT_TRUE(r.error().message.starts_with("malformed HTTP answer")) << r.error().message;
  EXPECT_LT(elapsed_, kBound);
  EXPECT_EQ(raw_.Requests().size(), 1u);
  EXPECT_EQ(observer_.Codes(), Repeat("invalid_response", 1));
}

INSTANTIATE_TEST_SUITE_P(
    Answers, GarbageAnswerTest,
    ::testing::Values(
        // An SSH server greets first and waits for the client's greeting.
        Garbage{"ssh_banner", "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"},
        Garbage{"binary", std::string(kBinary, sizeof kBinary - 1)},
        Garbage{"status_not_a_number", "HTTP/1.1 abc\r\nContent-Length: 0\r\n\r\n"},
        Garbage{"invalid_chunk_size",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"},
        Garbage{"header_without_colon",
                "HTTP/1.1 200 OK\r\nContent-Length 2\r\nContent-Type: application/json\r\n\r\n{}"}),
    [](const ::testing::TestParamInfo<Garbage>& info) { return info.param.name; });

TEST_F(RawClientTest, TruncatedJsonInAWellFramedAnswerIsInvalidFromTheDecoder) {
  raw_.Script({.steps = {{.bytes = RawAnswer(200, R"({"connection_id":"c1","healthy":tr)")}}});
  auto r = Check();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidResponse);
  EXPECT_EQ(r.error().status, 200);
  EXPECT_FALSE(r.error().message.starts_with("malformed HTTP answer")) << r.error().message;
  EXPECT_EQ(raw_.Requests().size(), 1u);
}

// A client socket that has sent a request for `path`; -1 when it could not.
int SendRequest(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(request.size())) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

TEST(FakeRawServerTest, StopEndsEveryHoldStreamAndDripAtOnce) {
  fake::FakeRawServer raw;
  ASSERT_GT(raw.Start(), 0);
  raw.Script({.path = "/hold", .end = RawEnd::kHold});
  raw.Script({.path = "/stream", .end = RawEnd::kStream});
  raw.Script({.path = "/drip", .steps = {Drip(std::string(1000, 'x'), 1s)}});
  std::vector<int> clients;
  for (const char* path : {"/hold", "/stream", "/drip"}) {
    clients.push_back(SendRequest(raw.port(), path));
    ASSERT_GE(clients.back(), 0);
  }
  ASSERT_TRUE(WaitFor([&] { return raw.Requests().size() == 3; }));
  EXPECT_EQ(raw.OpenSockets(), 3);
  const auto start = Clock::now();
  raw.Stop();
  EXPECT_LT(Since(start), 2s);
  EXPECT_EQ(raw.OpenSockets(), 0);
  for (int fd : clients) ::close(fd);
}

// The daemon against a FakeHotdataServer behind a FakeRawServer: every request passes the raw
// server, which records when it came and answers by its scripts; the rest it relays.
class RelayedDaemon {
 public:
  explicit RelayedDaemon(const std::string& extra_config = "") {
    AddDefaultConnections(api_);
    EXPECT_GT(api_.Start(), 0);
    EXPECT_GT(raw_.Start(), 0);
    raw_.RelayTo(api_.port());
    const std::string token = dir_.Write("token", std::string(kToken) + "\n");
    const std::string config =
        dir_.Write("config.yaml", TestConfig(raw_.base_url(), token, extra_config));
    auto d = Daemon::Create({.config_path = config});
    if (!d) {
      ADD_FAILURE() << d.error();
      return;
    }
    daemon_ = std::move(*d);
    if (auto port = daemon_->Start(); !port) ADD_FAILURE() << port.error();
  }
  ~RelayedDaemon() {
    if (daemon_) daemon_->Stop();
  }

  fake::FakeHotdataServer& api() { return api_; }
  fake::FakeRawServer& raw() { return raw_; }
  Daemon& daemon() { return *daemon_; }
  bool WaitForRounds(uint64_t rounds) {
    return WaitFor([&] { return daemon_ && daemon_->scheduler().RoundsCompleted() >= rounds; });
  }
  ConnectionState State(const std::string& id) {
    FleetSnapshot snapshot = daemon_->scheduler().Snapshot();
    for (auto& c : snapshot.connections) {
      if (c.info.id == id) return std::move(c);
    }
    return {};
  }
  std::string Metrics() { return daemon_->metrics().Render(daemon_->scheduler().Snapshot()); }

 private:
  fake::FakeHotdataServer api_;
  fake::FakeRawServer raw_;
  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
};

constexpr char kPgHealth[] = "/v1/connections/conn_pg/health";
constexpr char kSfHealth[] = "/v1/connections/conn_sf/health";

std::string Requests(const std::string& code) {
  return "hotdata_api_requests_total{code=\"" + code + "\",operation=\"check_connection_health\"}";
}

TEST(ApiMisbehaviourDaemonTest, AHealthAnswerDrippedForeverDoesNotHoldUpTheRounds) {
  RelayedDaemon d;
  // conn_sf's health answer: a header that never ends, one byte every 100 ms.
  d.raw().Script(
      {.path = kSfHealth,
       .steps = {{.bytes = "HTTP/1.1 200 OK\r\nX-Slow: "}, Drip(std::string(10'000, 'a'), 100ms)}});
  ASSERT_TRUE(d.WaitForRounds(1));
  const uint64_t rounds = d.daemon().scheduler().RoundsCompleted();
  const size_t pg_checks = d.raw().CountRequests(kPgHealth);
  ASSERT_TRUE(d.WaitForRounds(rounds + 4));
  EXPECT_EQ(d.daemon().scheduler().Snapshot().rounds_overrun, 0u);
  EXPECT_GE(d.raw().CountRequests(kPgHealth), pg_checks + 4);
  EXPECT_GE(d.raw().CountRequests(kSfHealth), 4u);  // asked again every round
  for (const char* id : {"conn_pg", "conn_my"}) EXPECT_TRUE(d.State(id).check_success) << id;
  EXPECT_FALSE(d.State("conn_sf").check_success);
  EXPECT_EQ(d.State("conn_sf").last_check_error_code, "timeout");
  EXPECT_GE(SeriesValue(d.Metrics(), Requests("timeout")).value_or(0), 4);
}

constexpr char kNoFailedCheckMayPurge[] = R"(policies:
  - name: on-unhealthy
    match: { name: ["prod-*"] }
    when: { event: unhealthy, after_failures: 1 }
    action: { purge: connection }
  - name: on-recovered
    match: { name: ["prod-*"] }
    when: { event: recovered, after_failures: 1 }
    action: { purge: connection }
)";

TEST(ApiMisbehaviourDaemonTest, RateLimitedAcrossRoundsHonoursRetryAfterAndFiresNoPolicy) {
  RelayedDaemon d(kNoFailedCheckMayPurge);
  ASSERT_TRUE(d.WaitForRounds(1));
  const auto limited_since = Clock::now();
  // The next two pg health requests are answered 429, the ones after them as usual.
  d.api().Script("GET", kPgHealth,
                 {.status = 429,
                  .body = R"({"error":{"code":"RATE_LIMITED","message":"slow down"}})",
                  .headers = {{"Retry-After", "2"}},
                  .times = 2});
  ASSERT_TRUE(WaitFor([&] { return d.State("conn_pg").last_check_error_code == "429"; }));
  const ConnectionState pg = d.State("conn_pg");
  EXPECT_FALSE(pg.check_success);
  EXPECT_TRUE(pg.not_before.has_value());
  EXPECT_TRUE(pg.healthy.value_or(false));  // the last answer stands
  EXPECT_TRUE(d.State("conn_my").check_success);

  ASSERT_TRUE(WaitFor([&] { return d.State("conn_pg").check_success; }));
  // The requests since the script, the last one answered as usual (the next is a round away).
  // Two or three: the first 429 may have answered a request on its way when the script came.
  std::vector<Clock::time_point> at;
  for (const auto& r : d.raw().Requests()) {
    if (r.path == kPgHealth && r.at > limited_since) at.push_back(r.at);
  }
  EXPECT_EQ(SeriesValue(d.Metrics(), Requests("429")), 2);
  ASSERT_GE(at.size(), 2u);
  // The interval is 1 s: without Retry-After the connection would be asked every second.
  for (size_t i = 1; i < at.size(); ++i) EXPECT_GE(at[i] - at[i - 1], 2s - 50ms) << i;
  ASSERT_TRUE(d.WaitForRounds(d.daemon().scheduler().RoundsCompleted() + 1));
  for (const auto& r : d.raw().Requests()) EXPECT_NE(r.method, "DELETE") << r.path;
  EXPECT_TRUE(d.daemon().policy().audit().Entries().empty());
}

TEST(ApiMisbehaviourDaemonTest, AnApiThatFlapsDownAndUpFailsChecksCleanlyAndFiresNoPolicy) {
  DaemonHarness h(kNoFailedCheckMayPurge);
  ASSERT_TRUE(h.WaitForRounds(1));
  const int port = h.fake().port();
  auto checked = [&](double success) {
    const std::string m = h.Metrics();
    for (const char* labels : {R"({connection_id="conn_pg",connection="prod-pg"})",
                               R"({connection_id="conn_my",connection="prod-mysql"})"}) {
      if (SeriesValue(m, std::string("hotdata_connection_check_success") + labels) != success) {
        return false;
      }
    }
    return true;
  };
  for (int flap = 0; flap < 2; ++flap) {
    h.fake().Stop();
    ASSERT_TRUE(WaitFor([&] { return checked(0); })) << flap;
    ASSERT_EQ(h.fake().Start(port), port);
    ASSERT_TRUE(WaitFor([&] { return checked(1); })) << flap;
  }
  ASSERT_TRUE(h.WaitForRounds(h.daemon().scheduler().RoundsCompleted() + 1));
  const std::string m = h.Metrics();
  EXPECT_GE(SeriesValue(m, Requests("connection_error")).value_or(0), 2);
  EXPECT_EQ(
      SeriesValue(m, R"(hotdata_connection_healthy{connection_id="conn_pg",connection="prod-pg"})"),
      1);
  for (const auto& r : h.fake().Requests()) EXPECT_NE(r.method, "DELETE") << r.path;
  EXPECT_TRUE(h.daemon().policy().audit().Entries().empty());
}

}  // namespace
}  // namespace hdm::testing
