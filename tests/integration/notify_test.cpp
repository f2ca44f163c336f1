// The sd_notify protocol for real: the daemon binary runs with NOTIFY_SOCKET pointing at a
// datagram socket the test bound, as systemd would. READY=1 means "listening with a valid
// config, token and state", not "the API answered": an API outage at boot must not hold
// `systemctl start` (Type=notify) until TimeoutStartSec.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <cctype>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "integration/harness.h"
#include "integration/notify_socket.h"

namespace hdm::testing {
namespace {

using Clock = NotifySocket::Clock;

TEST(NotifyTest, ReadyWatchdogAndStoppingAsSystemdExpects) {
  fake::FakeHotdataServer fake;
  AddDefaultConnections(fake);
  ASSERT_GT(fake.Start(), 0);
  TempDir dir;
  const std::string token = dir.Write("token", kToken);
  const std::string config = dir.Write("c.yaml", TestConfig(fake.base_url(), token));
  const std::string sock_path = (dir.path() / "notify.sock").string();
  NotifySocket sock(sock_path);
  ASSERT_TRUE(sock.bound());

  const std::string binary = std::string(HDM_BINARY_DIR) + "/hotdata-monitor";
  const std::string log_path = (dir.path() / "stderr.log").string();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("NOTIFY_SOCKET", sock_path.c_str(), 1);
    setenv("WATCHDOG_USEC", "1000000", 1);   // 1 s: WATCHDOG=1 about every 0.5 s
    setenv("JOURNAL_STREAM", "8:12345", 1);  // as systemd sets it: log for the journal
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(log, STDERR_FILENO);
    execl(binary.c_str(), binary.c_str(), "--config", config.c_str(), nullptr);
    _exit(127);
  }
  ASSERT_TRUE(sock.WaitFor("READY=1", std::chrono::seconds(10)));
  // The first discovery's outcome follows at once, not at the next periodic status.
  std::vector<std::string> seen;
  EXPECT_TRUE(sock.WaitFor("STATUS=monitoring 3 connections", std::chrono::seconds(5), &seen))
      << (seen.empty() ? "" : seen.back());

  // Watchdog pings over three seconds: at the pace asked for (half the period), with slack for
  // a loaded machine, but never more often than the loop goes round.
  int pings = 0;
  const auto window_end = Clock::now() + std::chrono::seconds(3);
  while (Clock::now() < window_end) {
    if (sock.Receive(window_end).find("WATCHDOG=1") != std::string::npos) ++pings;
  }
  EXPECT_GE(pings, 3);
  EXPECT_LE(pings, 12);

  kill(pid, SIGTERM);
  EXPECT_TRUE(sock.WaitFor("STOPPING=1", std::chrono::seconds(5)));
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  // Under systemd every line carries its journal priority and no timestamp of its own.
  std::ifstream in(log_path);
  std::string line;
  int lines = 0;
  bool saw_info = false;
  bool saw_warning = false;
  while (std::getline(in, line)) {
    ++lines;
    ASSERT_GE(line.size(), 3u);
    EXPECT_TRUE(line[0] == '<' && line[2] == '>' && line[1] >= '0' && line[1] <= '7') << line;
    EXPECT_FALSE(line.size() > 3 && std::isdigit(static_cast<unsigned char>(line[3]))) << line;
    saw_info |= line.starts_with("<6>");
    saw_warning |= line.starts_with("<4>") && line.find("unhealthy") != std::string::npos;
  }
  EXPECT_GT(lines, 0);
  EXPECT_TRUE(saw_info);
  EXPECT_TRUE(saw_warning);  // analytics-sf answers unhealthy: a warning
}

// The port the daemon logged ("listening on ... (port N, ..."), 0 until it did.
int LoggedPort(const std::string& log_path) {
  std::ifstream in(log_path);
  std::ostringstream text;
  text << in.rdbuf();
  std::smatch m;
  const std::string log = text.str();
  if (!std::regex_search(log, m, std::regex(R"(\(port ([0-9]+),)"))) return 0;
  return std::stoi(m[1].str());
}

// With the API down at boot (the list answers 503) the daemon is ready once it listens, tells
// systemd why it is not monitoring yet, and keeps /readyz at 503 until a discovery succeeds.
TEST(NotifyTest, ReadyAtOnceWhileTheApiIsDownThenStatusOnceDiscovered) {
  fake::FakeHotdataServer fake;
  AddDefaultConnections(fake);
  fake.Script("GET", "/v1/connections", {.status = 503, .body = R"({"error":"maintenance"})"});
  ASSERT_GT(fake.Start(), 0);
  TempDir dir;
  const std::string token = dir.Write("token", kToken);
  const std::string config = dir.Write("c.yaml", TestConfig(fake.base_url(), token));
  const std::string sock_path = (dir.path() / "notify.sock").string();
  NotifySocket sock(sock_path);
  ASSERT_TRUE(sock.bound());

  const std::string binary = std::string(HDM_BINARY_DIR) + "/hotdata-monitor";
  const std::string log_path = (dir.path() / "stderr.log").string();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("NOTIFY_SOCKET", sock_path.c_str(), 1);
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(log, STDERR_FILENO);
    execl(binary.c_str(), binary.c_str(), "--config", config.c_str(), nullptr);
    _exit(127);
  }
  struct Reaper {
    pid_t pid;
    ~Reaper() {
      if (pid <= 0) return;  // reaped already (never kill(-1, ...))
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  } reaper{pid};

  std::vector<std::string> seen;
  ASSERT_TRUE(sock.WaitFor("READY=1", std::chrono::seconds(10), &seen))
      << "no READY=1 while the API answers 503";
  seen.clear();
  ASSERT_TRUE(
      sock.WaitFor("STATUS=waiting for the first discovery: ", std::chrono::seconds(10), &seen));
  if (seen.back().find("503") == std::string::npos) {
    // The first status may predate the first failure; the next one names it.
    ASSERT_TRUE(sock.WaitFor("503", std::chrono::seconds(15), &seen)) << seen.back();
  }
  EXPECT_NE(seen.back().find("STATUS=waiting for the first discovery: "), std::string::npos)
      << seen.back();

  int port = 0;
  ASSERT_TRUE(WaitFor([&] { return (port = LoggedPort(log_path)) > 0; }));
  httplib::Client http("127.0.0.1", port);
  auto readyz = http.Get("/readyz");
  ASSERT_TRUE(readyz);
  EXPECT_EQ(readyz->status, 503);
  auto status = http.Get("/api/v1/status");
  ASSERT_TRUE(status);
  const auto doc = nlohmann::json::parse(status->body, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(doc.is_object()) << status->body;
  EXPECT_EQ(doc["ready"], false) << status->body;
  ASSERT_TRUE(doc["discovery"]["last_error"].is_string()) << status->body;
  EXPECT_NE(doc["discovery"]["last_error"].get<std::string>().find("503"), std::string::npos)
      << status->body;
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_GE(SeriesValue(metrics->body, "hotdata_monitor_discovery_failures_total").value_or(0), 1)
      << metrics->body;

  // The API is back: the status says so as soon as the discovery succeeds.
  fake.ClearScripts();
  EXPECT_TRUE(sock.WaitFor("STATUS=monitoring 3 connections", std::chrono::seconds(10)));
  EXPECT_TRUE(WaitFor([&] {
    auto r = http.Get("/readyz");
    return r && r->status == 200;
  }));

  kill(pid, SIGTERM);
  EXPECT_TRUE(sock.WaitFor("STOPPING=1", std::chrono::seconds(5)));
  int exit_status = 0;
  ASSERT_EQ(waitpid(pid, &exit_status, 0), pid);
  reaper.pid = -1;
  EXPECT_TRUE(WIFEXITED(exit_status));
  EXPECT_EQ(WEXITSTATUS(exit_status), 0);
}

}  // namespace
}  // namespace hdm::testing
