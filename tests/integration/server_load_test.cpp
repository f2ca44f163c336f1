// The monitor's server under hostile and heavy clients: silent connections and requests that
// drip in byte by byte (slowloris) must not starve other clients; hundreds of concurrent scrapes
// must all be answered in full while the scheduler keeps its pace; the connection limits
// (read deadline, connection cap, worker threads) hold. Plain HTTP and TLS, on 127.0.0.1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "http/elastic_pool.h"
#include "http/server.h"
#include "integration/harness.h"
#include "integration/raw_client.h"

namespace hdm::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Clients that connect and send nothing, and clients that send a request one byte at a time,
// a byte every `pace` round the set, until destroyed. `drip` is what they drip (an HTTP request
// that never ends, or a TLS record that never ends).
class Slowloris {
 public:
  Slowloris(int port, int silent, int dripping, std::string drip,
            milliseconds pace = milliseconds(50))
      : drip_(std::move(drip)), pace_(pace) {
    for (int i = 0; i < silent; ++i) silent_.push_back(std::make_unique<RawClient>(port));
    for (int i = 0; i < dripping; ++i) dripping_.push_back(std::make_unique<RawClient>(port));
    thread_ = std::thread([this] { Drip(); });
  }
  ~Slowloris() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool all_connected() const {
    for (const auto* set : {&silent_, &dripping_}) {
      for (const auto& c : *set) {
        if (!c->connected()) return false;
      }
    }
    return true;
  }

 private:
  void Drip() {
    std::unique_lock lock(mu_);
    for (size_t sent = 0; !stop_; ++sent) {
      for (auto& c : dripping_) c->Send(std::string_view(drip_).substr(sent % drip_.size(), 1));
      cv_.wait_for(lock, pace_, [this] { return stop_; });
    }
  }

  std::vector<std::unique_ptr<RawClient>> silent_;
  std::vector<std::unique_ptr<RawClient>> dripping_;
  const std::string drip_;
  const milliseconds pace_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // Guarded by mu_.
  std::thread thread_;
};

// A request whose headers never end: a header line grows without bound.
const std::string kEndlessRequest =
    "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(100'000, 'a');
// A TLS handshake record whose 16 KB body never comes whole.
const std::string kEndlessTlsRecord =
    std::string("\x16\x03\x01\x40\x00", 5) + std::string(16384, 'a');

struct Timed {
  int status = -1;
  double ms = 0;
};

template <class C>  // httplib::Client or SSLClient
Timed TimedGet(C& cli, const std::string& path) {
  const auto start = Clock::now();
  auto res = cli.Get(path);
  return {res ? res->status : -1, MsSince(start)};
}

Timed PlainGet(int port, const std::string& path) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_connection_timeout(5, 0);
  cli.set_read_timeout(5, 0);
  return TimedGet(cli, path);
}

// ---------------------------------------------------------------------------------------------
// The daemon, as a scraper sees it.

TEST(ServerLoadTest, SilentAndDrippingClientsDoNotStarveOthers) {
  DaemonHarness h;
  ASSERT_TRUE(h.WaitForRounds(1));
  const Timed before = PlainGet(h.port(), "/metrics");
  ASSERT_EQ(before.status, 200);

  Slowloris attack(h.port(), 64, 16, kEndlessRequest);
  ASSERT_TRUE(attack.all_connected());
  // The attackers are in: every one of them was accepted before these requests arrive.
  const Timed metrics = PlainGet(h.port(), "/metrics");
  const Timed healthz = PlainGet(h.port(), "/healthz");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(healthz.status, 200);
  std::printf(
      "/metrics alone: %.1f ms; with 64 silent + 16 dripping clients: /metrics %.1f ms, "
      "/healthz %.1f ms\n",
      before.ms, metrics.ms, healthz.ms);
  const uint64_t rounds = h.daemon().scheduler().RoundsCompleted();
  EXPECT_TRUE(h.WaitForRounds(rounds + 2));
}

TEST(ServerLoadTest, HundredsOfConcurrentScrapesAreAllAnsweredInFull) {
  constexpr int kConnections = 1000;
  constexpr int kScrapers = 300;
  DaemonHarness h;
  for (int i = 0; i < kConnections; ++i) {
    h.fake().Upsert({.id = "conn_load_" + std::to_string(i),
                     .name = "load-" + std::to_string(i),
                     .source_type = "postgres",
                     .table_count = 5,
                     .synced_table_count = 5,
                     .healthy = true,
                     .latency_ms = 3});
  }
  const std::string count_line =
      "hotdata_monitor_connections " + std::to_string(kConnections + 3) + "\n";
  ASSERT_TRUE(WaitFor([&] { return h.Metrics().find(count_line) != std::string::npos; }));
  ASSERT_TRUE(h.WaitForRounds(h.daemon().scheduler().RoundsCompleted() + 1));

  // What a complete body looks like: its metric families, in order.
  auto families = [](const std::string& body) {
    std::string out;
    for (size_t at = body.find("# TYPE "); at != std::string::npos;
         at = body.find("# TYPE ", at + 1)) {
      out += body.substr(at, body.find('\n', at) - at) + "\n";
    }
    return out;
  };
  const std::string expected = families(h.Metrics());
  ASSERT_FALSE(expected.empty());

  struct Result {
    int status = -1;
    bool complete = false;
    size_t bytes = 0;
  };
  std::vector<Result> results(kScrapers);
  std::latch go(kScrapers + 1);
  std::vector<std::thread> scrapers;
  for (int i = 0; i < kScrapers; ++i) {
    scrapers.emplace_back([&, i] {
      httplib::Client cli("127.0.0.1", h.port());
      cli.set_connection_timeout(10, 0);
      cli.set_read_timeout(30, 0);
      cli.set_decompress(true);
      httplib::Headers headers;
      if (i % 2 == 1) headers.emplace("Accept-Encoding", "gzip");
      go.arrive_and_wait();
      auto res = cli.Get("/metrics", headers);
      if (!res) return;
      results[i] = {res->status,
                    res->body.ends_with("\n") && res->body.find(count_line) != std::string::npos &&
                        families(res->body) == expected,
                    res->body.size()};
    });
  }
  const uint64_t rounds = h.daemon().scheduler().RoundsCompleted();
  const auto start = Clock::now();
  go.arrive_and_wait();
  for (auto& t : scrapers) t.join();
  const double took = MsSince(start);
  int ok = 0;
  for (int i = 0; i < kScrapers; ++i) {
    EXPECT_EQ(results[i].status, 200) << "scrape " << i;
    EXPECT_TRUE(results[i].complete) << "scrape " << i << ": " << results[i].bytes << " bytes";
    ok += results[i].status == 200 && results[i].complete;
  }
  std::printf(
      "%d concurrent scrapes of %zu-byte bodies: %d complete in %.0f ms; rounds %llu -> "
      "%llu meanwhile\n",
      kScrapers, results[0].bytes, ok, took, static_cast<unsigned long long>(rounds),
      static_cast<unsigned long long>(h.daemon().scheduler().RoundsCompleted()));
  EXPECT_EQ(h.Get("/healthz").status, 200);
  EXPECT_TRUE(h.WaitForRounds(h.daemon().scheduler().RoundsCompleted() + 2));
}

// ---------------------------------------------------------------------------------------------
// The server alone, with stub handlers.

class ServerLoadTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);  // as the daemon does: a write to a closed socket is an error
    ASSERT_TRUE(fake::WriteSelfSignedCert(dir_.path().string()).has_value());
    auto id =
        LoadTlsIdentity((dir_.path() / "cert.pem").string(), (dir_.path() / "key.pem").string());
    ASSERT_TRUE(id.has_value()) << id.error();
    auto port = server_.Start("127.0.0.1:0", *id);
    ASSERT_TRUE(port.has_value()) << port.error();
    port_ = *port;
  }
  std::unique_ptr<httplib::SSLClient> Client() {
    auto cli = std::make_unique<httplib::SSLClient>("127.0.0.1", port_);
    cli->set_ca_cert_path((dir_.path() / "cert.pem").string());
    cli->enable_server_certificate_verification(true);
    cli->set_connection_timeout(10, 0);
    cli->set_read_timeout(10, 0);
    return cli;
  }

  TempDir dir_;
  HttpServer server_{{
      .metrics = [] { return std::string(200'000, '#') + "\nup 1\n"; },
      .alive = [] { return true; },
      .ready = [] { return true; },
      .status_json = [] { return std::string("{}"); },
      .actions_json = nullptr,
      .reload = []() -> std::expected<void, std::string> { return {}; },
  }};
  int port_ = 0;
};

TEST_F(ServerLoadTlsTest, SilentAndDrippingClientsDoNotStarveOthers) {
  Slowloris attack(port_, 64, 16, kEndlessTlsRecord);
  ASSERT_TRUE(attack.all_connected());
  auto cli = Client();
  const Timed metrics = TimedGet(*cli, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  std::printf("TLS /metrics with 64 silent + 16 dripping clients: %.1f ms\n", metrics.ms);

  constexpr int kScrapers = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> scrapers;
  for (int i = 0; i < kScrapers; ++i) {
    scrapers.emplace_back([&] {
      auto res = Client()->Get("/metrics");
      if (res && res->status == 200 && res->body.ends_with("up 1\n")) ++ok;
    });
  }
  for (auto& t : scrapers) t.join();
  EXPECT_EQ(ok, kScrapers);
}

// ---- Limits (these use the API that the fix added) ----

class ServerLimitsTest : public ::testing::Test {
 protected:
  void Start(ConnectionLimits limits) {
    server_ = std::make_unique<HttpServer>(
        HttpHandlers{
            .metrics = [] { return std::string("up 1\n"); },
            .alive = [] { return true; },
            .ready = [] { return true; },
            .status_json = [] { return std::string("{}"); },
            .actions_json = nullptr,
            .reload = []() -> std::expected<void, std::string> { return {}; },
        },
        limits);
    auto port = server_->Start("127.0.0.1:0");
    ASSERT_TRUE(port.has_value()) << port.error();
    port_ = *port;
  }
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(ServerLimitsTest, ARequestThatDripsInIsCutOffAtTheReadTimeout) {
  Start({.read_timeout = milliseconds(500)});
  RawClient silent(port_);
  RawClient dripping(port_);
  ASSERT_TRUE(dripping.Send("GET /metrics HTTP/1.1\r\n"));
  std::atomic<bool> stop{false};
  std::thread drip([&] {
    // Sends faster than any per-read timeout: only a whole-request deadline can stop it.
    for (int i = 0; !stop && i < 1000; ++i) {
      if (!dripping.Send("X")) break;
      std::this_thread::sleep_for(milliseconds(20));
    }
  });
  bool closed = false;
  const std::string reply = dripping.Read(milliseconds(10'000), closed);
  stop = true;
  drip.join();
  EXPECT_TRUE(closed);
  EXPECT_EQ(reply.find("200 OK"), std::string::npos) << reply;
  silent.Read(milliseconds(10'000), closed);
  EXPECT_TRUE(closed) << "a silent connection is closed after read_timeout too";
  EXPECT_TRUE(WaitFor([&] { return server_->connection_stats().open == 0; }));
}

TEST_F(ServerLimitsTest, ConnectionsOverTheCapAreRefusedWith503) {
  Start({.max_connections = 4});
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 4; ++i) held.push_back(std::make_unique<RawClient>(port_));
  ASSERT_TRUE(WaitFor([&] { return server_->connection_stats().open == 4; }));
  RawClient over(port_);
  bool closed = false;
  const std::string reply = over.Read(milliseconds(5'000), closed);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 503 Service Unavailable\r\n")) << reply;
  EXPECT_EQ(server_->connection_stats().refused, 1u);

  held.pop_back();  // a slot frees: the next client is served
  ASSERT_TRUE(WaitFor([&] { return server_->connection_stats().open == 3; }));
  RawClient next(port_);
  ASSERT_TRUE(next.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(next.Read(milliseconds(5'000), closed).starts_with("HTTP/1.1 200 OK"));
}

TEST_F(ServerLimitsTest, KeptAliveAndPipelinedRequestsAreAnswered) {
  Start({});
  RawClient c(port_);
  ASSERT_TRUE(
      c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool closed = false;
  const std::string first = c.Read(milliseconds(5'000), closed, "up 1\n");
  EXPECT_NE(first.find("ok\n"), std::string::npos) << first;
  EXPECT_NE(first.find("up 1\n"), std::string::npos) << first;
  // Both answered; the connection now waits for its next request, parked, holding no worker.
  EXPECT_TRUE(WaitFor([&] {
    const auto stats = server_->connection_stats();
    return stats.parked == 1 && stats.open == 1;
  }));
  ASSERT_TRUE(c.Send("GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string last = c.Read(milliseconds(5'000), closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(last.find("ready\n"), std::string::npos) << last;

  httplib::Client keep("127.0.0.1", port_);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(TimedGet(keep, "/healthz").status, 200);
}

TEST_F(ServerLimitsTest, RequestsBeyondTheWorkersWaitTheirTurnAndStopIsPrompt) {
  Start({.max_workers = 2, .read_timeout = milliseconds(60'000)});
  // Two dripping clients hold both workers for up to a minute ...
  Slowloris attack(port_, 8, 2, kEndlessRequest);
  ASSERT_TRUE(WaitFor([&] { return server_->connection_stats().worker_threads == 2; }));
  // ... so a request waits, in the queue, without a thread.
  RawClient waiting(port_);
  ASSERT_TRUE(waiting.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  // Accepted (open 11: 10 attackers and it) and queued. Waiting for "queued" alone was flaky: a
  // dripping attacker could be the queued one while this client was still in the backlog.
  ASSERT_TRUE(WaitFor([&] {
    const auto stats = server_->connection_stats();
    return stats.open == 11 && stats.queued == 1;
  }));
  EXPECT_EQ(server_->connection_stats().peak_worker_threads, 2);
  const auto start = Clock::now();
  server_->Stop();
  EXPECT_LT(MsSince(start), 5'000) << "Stop() waited for the slow clients";
  bool closed = false;
  waiting.Read(milliseconds(5'000), closed);
  EXPECT_TRUE(closed);
}

TEST(ElasticPoolTest, GrowsToItsBoundQueuesBeyondAndShrinksWhenIdle) {
  ElasticPool pool(3, milliseconds(100));
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> done{0};
  for (int i = 0; i < 5; ++i) {
    pool.Post([&] {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return release; });
      ++done;
    });
  }
  EXPECT_TRUE(WaitFor([&] { return pool.threads() == 3 && pool.queued() == 2; }));
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  EXPECT_TRUE(WaitFor([&] { return done == 5; }));
  EXPECT_TRUE(WaitFor([&] { return pool.threads() == 0; })) << "idle threads exit";
  EXPECT_EQ(pool.peak_threads(), 3);
  pool.Post([&] { ++done; });  // a thread starts again
  EXPECT_TRUE(WaitFor([&] { return done == 6; }));
  pool.Stop();
  pool.Post([&] { ++done; });  // after Stop: runs here
  EXPECT_EQ(done, 7);
}

}  // namespace
}  // namespace hdm::testing
