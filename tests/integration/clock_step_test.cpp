// Issue #13 item 1 through the whole daemon, against the fake Hotdata API: the daemon's wall
// clock steps an hour back or forward (as NTP does after a VM resumed, or at boot when the RTC
// ran ahead) while its monotonic clock runs on. Checks and discoveries keep reaching the API at
// their interval, /healthz tells the truth, systemd's watchdog keeps being fed and STATUS= keeps
// coming; timestamps follow the (stepped) wall clock.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "integration/harness.h"
#include "integration/notify_socket.h"

namespace hdm::testing {
namespace {

using namespace std::chrono_literals;

// The real clocks, but the wall clock can be stepped: Now() is the system clock plus an offset
// the test moves; Mono() is the steady clock, untouched.
class SteppedWallClock final : public Clock {
 public:
  SysTime Now() const override { return SysClock::now() + SysTime::duration(offset_.load()); }
  MonoTime Mono() const override { return MonoClock::now(); }
  void StepWall(std::chrono::nanoseconds d) {
    offset_.fetch_add(std::chrono::duration_cast<SysTime::duration>(d).count());
  }

 private:
  std::atomic<SysTime::duration::rep> offset_{0};
};

constexpr const char* kIds[] = {"conn_pg", "conn_my", "conn_sf", "conn_x1", "conn_x2"};

// Five connections checked every second (the config of the issue's report), a daemon that reads
// time from clock_.
class ClockStepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AddDefaultConnections(fake_);
    fake_.Upsert({.id = "conn_x1", .name = "extra-1", .source_type = "postgres"});
    fake_.Upsert({.id = "conn_x2", .name = "extra-2", .source_type = "mysql"});
    ASSERT_GT(fake_.Start(), 0);
    const std::string token = dir_.Write("token", kToken);
    config_path_ = dir_.Write("c.yaml", TestConfig(fake_.base_url(), token));
  }
  void TearDown() override {
    if (daemon_) daemon_->Stop();
    daemon_.reset();
    fake_.Stop();
  }
  void StartDaemon() {
    auto d = Daemon::Create({.config_path = config_path_, .clock = &clock_});
    ASSERT_TRUE(d.has_value()) << d.error();
    daemon_ = std::move(*d);
    auto port = daemon_->Start();
    ASSERT_TRUE(port.has_value()) << port.error();
    port_ = *port;
  }
  size_t HealthRequests() const {
    size_t n = 0;
    for (const char* id : kIds) {
      n += fake_.CountRequests("GET", std::string("/v1/connections/") + id + "/health");
    }
    return n;
  }
  size_t ListRequests() const { return fake_.CountRequests("GET", "/v1/connections"); }
  int Get(const std::string& path, std::string* body = nullptr) const {
    httplib::Client cli("127.0.0.1", port_);
    cli.set_keep_alive(false);
    auto r = cli.Get(path);
    if (!r) return -1;
    if (body) *body = r->body;
    return r->status;
  }
  // hotdata_connection_last_check_timestamp_seconds of conn_pg, in seconds since the epoch.
  double LastCheckTimestamp() const {
    std::string m;
    Get("/metrics", &m);
    return SeriesValue(
               m,
               R"(hotdata_connection_last_check_timestamp_seconds{connection_id="conn_pg",connection="prod-pg"})")
        .value_or(0);
  }
  static double Seconds(SysTime t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
  }

  SteppedWallClock clock_;  // outlives the daemon
  TempDir dir_;
  fake::FakeHotdataServer fake_;
  std::string config_path_;
  std::unique_ptr<Daemon> daemon_;
  int port_ = 0;
};

// The report: after a step back of one hour, no check for an hour while /healthz said 200.
TEST_F(ClockStepTest, ChecksAndDiscoveriesGoOnAfterTheWallClockStepsBackAnHour) {
  StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return daemon_->scheduler().RoundsCompleted() >= 2; }));
  clock_.StepWall(-1h);
  const size_t checks = HealthRequests();
  const size_t lists = ListRequests();
  const uint64_t rounds = daemon_->scheduler().RoundsCompleted();
  // Three more rounds of five checks, and two more discoveries (both every second).
  EXPECT_TRUE(WaitFor([&] { return HealthRequests() >= checks + 3 * 5; }))
      << HealthRequests() - checks << " checks since the step";
  EXPECT_TRUE(WaitFor([&] { return ListRequests() >= lists + 2; }))
      << ListRequests() - lists << " discoveries since the step";
  EXPECT_TRUE(WaitFor([&] { return daemon_->scheduler().RoundsCompleted() >= rounds + 3; }));
  EXPECT_EQ(Get("/healthz"), 200);
  // Timestamps are wall-clock: the last check is stamped an hour back.
  EXPECT_LT(LastCheckTimestamp(), Seconds(SysClock::now() - 59min));
}

TEST_F(ClockStepTest, AForwardStepOfAnHourLeavesHealthzUpAndChecksAtTheirPace) {
  StartDaemon();
  ASSERT_TRUE(WaitFor([&] { return daemon_->scheduler().RoundsCompleted() >= 2; }));
  clock_.StepWall(1h);
  // At once, before the scheduler loop went round again: the loop is not an hour late.
  EXPECT_EQ(Get("/healthz"), 200);
  const size_t checks = HealthRequests();
  EXPECT_TRUE(WaitFor([&] { return HealthRequests() >= checks + 3 * 5; }))
      << HealthRequests() - checks << " checks since the step";
  EXPECT_EQ(Get("/healthz"), 200);
  EXPECT_TRUE(WaitFor([&] { return LastCheckTimestamp() > Seconds(SysClock::now() + 59min); }));
}

// NOTIFY_SOCKET and WATCHDOG_USEC as systemd sets them, for this process while the test runs
// (the daemon runs in-process, and sd_notify reads NOTIFY_SOCKET at each call).
class ScopedNotifyEnv {
 public:
  explicit ScopedNotifyEnv(const std::string& socket) {
    setenv("NOTIFY_SOCKET", socket.c_str(), 1);
    setenv("WATCHDOG_USEC", "1000000", 1);  // 1 s: WATCHDOG=1 about every 0.5 s
  }
  ~ScopedNotifyEnv() {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
  }
  ScopedNotifyEnv(const ScopedNotifyEnv&) = delete;
  ScopedNotifyEnv& operator=(const ScopedNotifyEnv&) = delete;
};

TEST_F(ClockStepTest, WatchdogAndStatusKeepComingAcrossAStepBack) {
  NotifySocket sock((dir_.path() / "notify.sock").string());
  ASSERT_TRUE(sock.bound());
  ScopedNotifyEnv env((dir_.path() / "notify.sock").string());
  StartDaemon();
  ASSERT_TRUE(sock.WaitFor("READY=1", 10s));
  ASSERT_TRUE(sock.WaitFor("STATUS=monitoring 5 connections", 10s));
  ASSERT_TRUE(sock.WaitFor("WATCHDOG=1", 5s));
  clock_.StepWall(-1h);
  // systemd would kill a unit whose pings stop for a whole period (1 s here); the deadlines are
  // generous for a loaded machine, the point is that pings keep coming at all.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(sock.WaitFor("WATCHDOG=1", 5s)) << "ping " << i;
  // The status is repeated every 10 s.
  EXPECT_TRUE(sock.WaitFor("STATUS=monitoring 5 connections", 15s));
  clock_.StepWall(2h);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(sock.WaitFor("WATCHDOG=1", 5s)) << "ping " << i;
  EXPECT_EQ(Get("/healthz"), 200);
  daemon_->Stop();  // before ScopedNotifyEnv ends: no sd_notify call reads the environment then
}

}  // namespace
}  // namespace hdm::testing
