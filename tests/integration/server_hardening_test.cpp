// The monitor's server against clients that abuse it slowly (issue #13): a client that reads its
// answer a little at a time must not hold a worker past the whole-response deadline, and a flood
// of wrong passwords must not stall an authorised scrape.
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "http/basic_auth.h"
#include "http/server.h"
#include "integration/harness.h"
#include "integration/raw_client.h"
#include "unit/http/bcrypt_hash.h"

namespace hdm::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

HttpHandlers Handlers(std::string metrics) {
  auto body = std::make_shared<const std::string>(std::move(metrics));
  return {
      .metrics = [body] { return *body; },
      .alive = [] { return true; },
      .ready = [] { return true; },
      .status_json = [] { return std::string("{}"); },
      .actions_json = nullptr,
      .reload = []() -> std::expected<void, std::string> { return {}; },
  };
}

TEST(ServerHardeningTest, ASlowReaderIsCutOffAtTheWholeResponseDeadline) {
  // 32 MB: far more than the socket buffers of both ends hold, so the server's writes block.
  HttpServer server(Handlers(std::string(32 << 20, 'x') + "\n"),
                    ConnectionLimits{.write_timeout = milliseconds(1'000)});
  auto port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port.has_value()) << port.error();

  RawClient slow(*port, 4096);
  ASSERT_TRUE(slow.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    // 1.5 MB every half second: enough that each of the server's waits to write ends well
    // within 1 s (the kernel wakes a writer when a third of its send buffer is free), while
    // the whole answer would take about ten seconds.
    while (!stop) {
      for (size_t got = 0; got < (3u << 19);) {
        const ssize_t n = slow.ReadSome(65536, milliseconds(20));
        if (n == 0) return;  // closed by the server
        if (n > 0) got += static_cast<size_t>(n);
        if (stop) return;
      }
      std::this_thread::sleep_for(milliseconds(500));
    }
  });
  ASSERT_TRUE(WaitFor([&] { return server.connection_stats().open == 1; }));
  // The 1 s deadline bounds the whole answer: the connection is closed while the client still
  // reads.
  const bool freed =
      WaitFor([&] { return server.connection_stats().open == 0; }, milliseconds(4'000));
  stop = true;
  reader.join();
  EXPECT_TRUE(freed) << "a client reading 3 MB/s of a 32 MB answer still holds its connection";
}

TEST(ServerHardeningTest, WrongPasswordsDoNotStallAnAuthorisedScrape) {
  HttpServer server(Handlers("up 1\n"));
  // Cost 11: each wrong password costs the server about 0.1 s of bcrypt.
  auto auth = BasicAuthChecker::Create("prom", MakeBcryptHash("right", 11));
  ASSERT_TRUE(auth.has_value()) << auth.error();
  server.SetBasicAuth(std::move(*auth));
  auto port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port.has_value()) << port.error();

  httplib::Client good("127.0.0.1", *port);
  good.set_basic_auth("prom", "right");
  good.set_read_timeout(60, 0);
  auto primed = good.Get("/metrics");  // the right credentials are now cached
  ASSERT_TRUE(primed && primed->status == 200);

  // 96 clients send a wrong password at once ("prom:wrong").
  constexpr int kWrong = 96;
  std::vector<std::unique_ptr<RawClient>> wrong;
  for (int i = 0; i < kWrong; ++i) {
    wrong.push_back(std::make_unique<RawClient>(*port));
    ASSERT_TRUE(wrong.back()->Send(
        "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic cHJvbTp3cm9uZw==\r\n\r\n"));
  }
  ASSERT_TRUE(WaitFor([&] { return server.connection_stats().open >= kWrong; }));

  std::atomic<int> status{0};
  std::thread scrape([&] {
    auto res = good.Get("/metrics");
    status = res ? res->status : -1;
  });
  // Served while the flood is still being refused; before the fix it waited behind every
  // wrong password's bcrypt (about 10 s here).
  const bool served = WaitFor([&] { return status != 0; }, milliseconds(3'000));
  scrape.join();
  EXPECT_TRUE(served) << "the authorised scrape waited behind the wrong passwords";
  EXPECT_EQ(status, 200);
  for (auto& c : wrong) {
    bool closed = false;
    const std::string reply = c->Read(milliseconds(30'000), closed, "\r\n\r\n");
    EXPECT_TRUE(reply.starts_with("HTTP/1.1 401 ")) << reply;
  }
}

}  // namespace
}  // namespace hdm::testing
