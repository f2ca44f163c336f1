// The sd_notify protocol for real: the daemon binary runs with NOTIFY_SOCKET pointing at a
// datagram socket the test bound, as systemd would.
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

#include "integration/harness.h"

namespace hdm::testing {
namespace {

using Clock = std::chrono::steady_clock;

class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    bound_ = bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~NotifySocket() { close(fd_); }
  bool bound() const { return bound_; }
  // The next datagram, or "" when none came before the deadline.
  std::string Receive(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return "";
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) != 1) return "";
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, n) : "";
  }
  // Receives until a message contains `needle`; false at the deadline.
  bool WaitFor(const std::string& needle, std::chrono::milliseconds timeout,
               std::vector<std::string>* seen = nullptr) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      std::string m = Receive(deadline);
      if (seen && !m.empty()) seen->push_back(m);
      if (m.find(needle) != std::string::npos) return true;
    }
    return false;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

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
  std::vector<std::string> seen;
  ASSERT_TRUE(sock.WaitFor("READY=1", std::chrono::seconds(10), &seen));
  EXPECT_NE(seen.back().find("STATUS=monitoring 3 connections"), std::string::npos) << seen.back();

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

}  // namespace
}  // namespace hdm::testing
