// Reloads one at a time: SIGHUP (main() calls Daemon::Reload on its own thread) and
// POST /-/reload (on an HTTP worker) may arrive together, and each reload swaps the scheduler's,
// the policies' and the daemon's config in turn. Interleaved, two reloads could leave the
// scheduler on one file and the policies on another. The sd_notify messages show the order:
// every RELOADING=1 is followed by its READY=1 before the next reload begins.
#include <stdlib.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "integration/harness.h"
#include "integration/notify_socket.h"

namespace hdm::testing {
namespace {

using namespace std::chrono_literals;

// Sets an environment variable for the life of the object (the daemon's notifier reads
// NOTIFY_SOCKET when it is created and at each message).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

// Collects every datagram on a thread of its own, so that the daemon's sd_notify never finds the
// socket's queue full.
class NotifyCollector {
 public:
  explicit NotifyCollector(NotifySocket& sock)
      : thread_([this, &sock] {
          while (!stop_) {
            std::string m = sock.Receive(NotifySocket::Clock::now() + 50ms);
            if (m.empty()) continue;
            std::lock_guard lock(mu_);
            messages_.push_back(std::move(m));
          }
        }) {}
  ~NotifyCollector() {
    stop_ = true;
    thread_.join();
  }
  std::vector<std::string> Messages() const {
    std::lock_guard lock(mu_);
    return messages_;
  }
  size_t Count(const std::string& needle) const {
    size_t n = 0;
    for (const auto& m : Messages()) n += m.find(needle) != std::string::npos;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> messages_;  // Guarded by mu_.
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The config file with scheduler.interval `interval`, replaced atomically (rename), so that a
// reload reads one version or the other, never half a file.
void WriteConfig(const std::filesystem::path& path, const std::string& text,
                 const std::string& interval, int writer) {
  std::string c = text;
  const std::string line = "  interval: 1s\n";
  c.replace(c.find(line), line.size(), "  interval: " + interval + "\n");
  const auto tmp = path.string() + ".tmp" + std::to_string(writer);
  std::ofstream(tmp) << c;
  std::filesystem::rename(tmp, path);
}

constexpr char kTables[] = R"(tables:
  - { connection: prod-pg, schema: public, table: orders }
  - { connection: conn_pg, schema: eu.sales, table: Order Items }
)";

TEST(ReloadTest, SignalAndHttpReloadsRunOneAtATimeAndLeaveOneConfig) {
  TempDir sock_dir;
  const std::string sock_path = (sock_dir.path() / "notify.sock").string();
  NotifySocket sock(sock_path);
  ASSERT_TRUE(sock.bound());
  ScopedEnv env("NOTIFY_SOCKET", sock_path);
  NotifyCollector notes(sock);
  DaemonHarness h(kTables);
  ASSERT_TRUE(WaitFor([&] { return notes.Count("READY=1") >= 1; }));
  ASSERT_TRUE(h.WaitForRounds(1));
  const std::filesystem::path config = h.dir().path() / "config.yaml";
  std::string text;
  {
    std::ifstream in(config);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const size_t ready_before = notes.Count("READY=1");

  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client http("127.0.0.1", h.port());
      http.set_read_timeout(10, 0);
      for (int i = 0; i < kEach; ++i) {
        WriteConfig(config, text, (t + i) % 2 == 0 ? "1s" : "2s", t);
        if (t % 2 == 0) {
          if (!h.daemon().Reload()) ++failed;  // as main() does on SIGHUP
        } else {
          auto r = http.Post("/-/reload");
          if (!r || r->status != 200) ++failed;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed, 0);

  constexpr size_t kReloads = kThreads * kEach;
  ASSERT_TRUE(WaitFor([&] {
    return notes.Count("RELOADING=1") == kReloads &&
           notes.Count("READY=1") == ready_before + kReloads;
  })) << notes.Count("RELOADING=1")
      << " RELOADING=1, " << notes.Count("READY=1") - ready_before << " READY=1";
  // Each reload's RELOADING=1 and READY=1 pair up: no reload began while another ran.
  bool reloading = false;
  size_t overlaps = 0;
  for (const auto& m : notes.Messages()) {
    if (m.find("RELOADING=1") != std::string::npos) {
      overlaps += reloading;
      reloading = true;
    } else if (m.find("READY=1") != std::string::npos) {
      reloading = false;
    }
  }
  EXPECT_EQ(overlaps, 0u) << "a reload began while another was still swapping";

  // One config in force: the last file's.
  WriteConfig(config, text, "2s", 0);
  ASSERT_TRUE(h.daemon().Reload());
  EXPECT_EQ(h.daemon().config()->scheduler.interval, std::chrono::seconds(2));
  EXPECT_EQ(SeriesValue(h.Metrics(), "hotdata_monitor_config_last_reload_successful"), 1);
}

// Each reload asks for the watched tables' profiles again; a burst of them queues at most one
// fetch per table (before, every reload queued each table once more, without bound).
TEST(ReloadTest, ABurstOfReloadsQueuesAtMostOneProfileFetchPerTable) {
  DaemonHarness h(kTables);
  ASSERT_TRUE(h.WaitForRounds(1));
  h.fake().Script("GET", "/v1/connections/conn_pg/tables/public/orders/profile",
                  {.status = 200, .body = "{}", .delay = 2s});
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(h.daemon().Reload());
  EXPECT_LE(h.daemon().scheduler().QueuedProfileFetches(), 2u);
  h.fake().ClearScripts();
}

}  // namespace
}  // namespace hdm::testing
