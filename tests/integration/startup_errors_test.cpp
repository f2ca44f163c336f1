// Faults of the files and the port the daemon needs. At start (the real binary): a missing,
// empty or unreadable token file, a missing, read-only, full or unreadable state, a bad listen
// address or certificate exit with code 2 (a configuration error: restarting does not cure it);
// a listen address in use or not (yet) on this host and a state lock held by another process
// exit with code 1 (a later try may succeed). Either way one line names the file or address and
// the cause. While running (in process): a state file that can no longer be written is
// counted in hotdata_monitor_state_save_errors_total, monitoring goes on, and a purge that cannot
// be written ahead is not sent.
//
// Root reads and writes anything: the permission cases run the binary as `nobody` when the test
// runs as root. The read-only and full file systems are tmpfs mounts: skipped where mounting is
// not permitted (CI runs as root, where they run).
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "integration/harness.h"
#include "state/state_file.h"

namespace hdm::testing {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kNobody = 65534;

struct Exit {
  int exit_code = -1;  // -1: killed by a signal, or still running at the deadline
  std::string err;
};

class StartupErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GT(fake_.Start(), 0);
    fs::permissions(dir_.path(), fs::perms::all);  // for the binary run as nobody
    token_ = dir_.Write("token", std::string(kToken) + "\n");
    state_dir_ = dir_.path() / "state";
    fs::create_directories(state_dir_);
    fs::permissions(state_dir_, fs::perms::all);
  }
  void TearDown() override {
    if (mounted_) ::umount2(state_dir_.c_str(), MNT_DETACH);
    fake_.Stop();
  }

  std::string State() const { return (state_dir_ / "state.json").string(); }
  // The test config with `state_file` and `listen` replaced; `server_extra` goes under server:.
  std::string Config(const std::string& token_file, const std::string& state_file,
                     const std::string& listen = "127.0.0.1:0",
                     const std::string& server_extra = "") {
    std::string c = TestConfig(fake_.base_url(), token_file);
    c.replace(c.find("state_file: "), std::string::npos, "state_file: " + state_file + "\n");
    const std::string line = "  listen: \"127.0.0.1:0\"\n";
    c.replace(c.find(line), line.size(), "  listen: \"" + listen + "\"\n" + server_extra);
    return dir_.Write("config.yaml", c);
  }
  // Runs `hotdata-monitor --config config` to its exit, as nobody when `unprivileged` and the
  // test runs as root. A daemon that starts after all is killed at the deadline (exit -1).
  Exit RunBinary(const std::string& config, bool unprivileged = false) {
    const std::string err_path = (dir_.path() / "stderr").string();
    const std::string binary = std::string(HDM_BINARY_DIR) + "/hotdata-monitor";
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int null = ::open("/dev/null", O_WRONLY);
      if (err < 0 || null < 0 || ::dup2(null, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(127);
      if (unprivileged && ::geteuid() == 0 &&
          (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)) {
        ::_exit(126);
      }
      ::execl(binary.c_str(), binary.c_str(), "--config", config.c_str(), nullptr);
      ::_exit(127);
    }
    Exit r;
    int status = 0;
    const bool exited = WaitFor([&] { return ::waitpid(pid, &status, WNOHANG) == pid; });
    if (!exited) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
    } else if (WIFEXITED(status)) {
      r.exit_code = WEXITSTATUS(status);
    }
    std::ifstream in(err_path);
    std::ostringstream text;
    text << in.rdbuf();
    r.err = text.str();
    return r;
  }
  // Mounts a tmpfs of 64 KiB on the state directory; false (with the reason) when not permitted.
  bool MountStateDir(unsigned long flags, std::string& why) {
    if (::mount("tmpfs", state_dir_.c_str(), "tmpfs", flags, "size=64k,mode=0777") != 0) {
      why = std::string("cannot mount a tmpfs here: ") + std::strerror(errno) +
            " (runs where the test is root and may mount, as in CI)";
      return false;
    }
    mounted_ = true;
    return true;
  }

  fake::FakeHotdataServer fake_;
  TempDir dir_;
  std::string token_;
  fs::path state_dir_;
  bool mounted_ = false;
};

constexpr int kRetryable = 1;    // systemd's Restart=on-failure tries again
constexpr int kConfigError = 2;  // RestartPreventExitStatus=2: it stays down

// Exit code `code` (a configuration error by default) and exactly one line: `message`.
void ExpectStartError(const Exit& r, const std::string& message, int code = kConfigError) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(r.err, "hotdata-monitor: " + message + "\n");
}

TEST_F(StartupErrorsTest, TokenFileMissing) {
  const std::string missing = (dir_.path() / "no-token").string();
  ExpectStartError(RunBinary(Config(missing, State())),
                   "cannot read api.token_file " + missing + ": No such file or directory");
}

TEST_F(StartupErrorsTest, TokenFileEmptyOrADirectory) {
  const std::string empty = dir_.Write("empty-token", "\n");
  ExpectStartError(RunBinary(Config(empty, State())), "api.token_file " + empty + " is empty");
  const std::string directory = (dir_.path() / "token-dir").string();
  fs::create_directories(directory);
  ExpectStartError(RunBinary(Config(directory, State())),
                   "cannot read api.token_file " + directory + ": it is a directory");
}

TEST_F(StartupErrorsTest, TokenFileUnreadable) {
  fs::permissions(token_, fs::perms::none);
  ExpectStartError(RunBinary(Config(token_, State()), /*unprivileged=*/true),
                   "cannot read api.token_file " + token_ + ": Permission denied");
}

TEST_F(StartupErrorsTest, StateDirectoryMissing) {
  const std::string state = (dir_.path() / "gone" / "state.json").string();
  ExpectStartError(
      RunBinary(Config(token_, state)),
      "state_file " + state + ": cannot open " + state + ".lock: No such file or directory");
}

TEST_F(StartupErrorsTest, StateDirectoryNotWritable) {
  fs::permissions(state_dir_, fs::perms::owner_read | fs::perms::owner_exec |
                                  fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  ExpectStartError(
      RunBinary(Config(token_, State()), /*unprivileged=*/true),
      "state_file " + State() + ": cannot open " + State() + ".lock: Permission denied");
}

TEST_F(StartupErrorsTest, StateFileUnreadableIsNotSetAside) {
  std::ofstream(State()) << R"({"version": 1, "policy": {}})";
  fs::permissions(State(), fs::perms::none);
  ExpectStartError(RunBinary(Config(token_, State()), /*unprivileged=*/true),
                   "state_file " + State() + ": cannot read " + State() + ": Permission denied");
  EXPECT_TRUE(fs::exists(State())) << "its cooldowns are kept for when it is readable again";
}

// Whoever may write the state directory must not redirect the daemon's writes (or a root-run
// operator command's) elsewhere: a state file or lock file that is a symlink stops the start.
TEST_F(StartupErrorsTest, StateFileThatIsASymlinkIsRefused) {
  const std::string other = (state_dir_ / "other.json").string();
  std::ofstream(other) << R"({"version": 1, "policy": {}})";
  fs::create_symlink(other, State());
  ExpectStartError(RunBinary(Config(token_, State())),
                   "state_file " + State() + ": cannot read " + State() +
                       ": it is a symbolic link (not followed)");
  EXPECT_TRUE(fs::is_symlink(State()));
}

TEST_F(StartupErrorsTest, StateLockFileThatIsASymlinkIsRefused) {
  const std::string other = (state_dir_ / "other").string();
  fs::create_symlink(other, State() + ".lock");
  ExpectStartError(RunBinary(Config(token_, State())),
                   "state_file " + State() + ": cannot open " + State() +
                       ".lock: it is a symbolic link (not followed)");
  EXPECT_FALSE(fs::exists(other)) << "nothing created through the link";
}

// A state file that cannot be read is kept for when it can, not set aside as if damaged.
TEST_F(StartupErrorsTest, StateFileThatIsADirectoryIsRefusedNotSetAside) {
  fs::create_directories(State());
  ExpectStartError(RunBinary(Config(token_, State())),
                   "state_file " + State() + ": cannot read " + State() + ": Is a directory");
  EXPECT_TRUE(fs::is_directory(State()));
  for (const auto& entry : fs::directory_iterator(state_dir_)) {
    EXPECT_FALSE(entry.path().filename().string().starts_with("state.json.corrupt"))
        << entry.path();
  }
}

TEST_F(StartupErrorsTest, StateDirectoryOnAReadOnlyFileSystem) {
  std::string why;
  if (!MountStateDir(MS_RDONLY, why)) GTEST_SKIP() << why;
  ExpectStartError(
      RunBinary(Config(token_, State())),
      "state_file " + State() + ": cannot open " + State() + ".lock: Read-only file system");
}

TEST_F(StartupErrorsTest, StateDirectoryFull) {
  std::string why;
  if (!MountStateDir(0, why)) GTEST_SKIP() << why;
  {
    std::ofstream fill(state_dir_ / "fill");
    const std::string block(4096, 'x');
    for (int i = 0; i < 64 && fill; ++i) fill << block << std::flush;
  }
  ExpectStartError(
      RunBinary(Config(token_, State())),
      "state_file " + State() + ": cannot write " + State() + ".tmp: No space left on device");
  EXPECT_FALSE(fs::exists(State() + ".tmp"));
}

TEST_F(StartupErrorsTest, ListenPortInUse) {
  const int busy = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(busy, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(busy, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(busy, 1), 0);
  ASSERT_EQ(::getsockname(busy, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string listen = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  const Exit r = RunBinary(Config(token_, State(), listen));
  ::close(busy);
  ExpectStartError(r, "server.listen " + listen + ": cannot listen: Address already in use",
                   kRetryable);
}

// An address this host does not have (yet: an interface that comes up late) is retried too.
TEST_F(StartupErrorsTest, ListenAddressNotAvailableIsRetryable) {
  const std::string listen = "192.0.2.1:9977";  // TEST-NET-1, on no interface here
  ExpectStartError(RunBinary(Config(token_, State(), listen)),
                   "server.listen " + listen + ": cannot listen: Cannot assign requested address",
                   kRetryable);
}

// Another process (an operator's `connections purge`, or a second daemon) holds the state lock
// past the wait: the next try may find it free.
TEST_F(StartupErrorsTest, StateLockHeldByAnotherProcessIsRetryable) {
  const std::string lock = State() + ".lock";
  const int fd = ::open(lock.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  const Exit r = RunBinary(Config(token_, State()));
  ::close(fd);
  ExpectStartError(r,
                   "state_file " + State() + ": cannot lock " + lock + ": held by another process",
                   kRetryable);
}

TEST_F(StartupErrorsTest, ListenAddressInvalid) {
  const Exit r = RunBinary(Config(token_, State(), "localhost"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("config.yaml:12:11: server.listen: expected host:port"), std::string::npos)
      << r.err;
}

TEST_F(StartupErrorsTest, TlsCertificateMissing) {
  const std::string cert = (dir_.path() / "cert.pem").string();
  const std::string key = dir_.Write("key.pem", "");
  const Exit r = RunBinary(Config(token_, State(), "127.0.0.1:0",
                                  "  tls: { cert_file: " + cert + ", key_file: " + key + " }\n"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("server.tls.cert_file: cannot read " + cert + ": No such file or directory"),
            std::string::npos)
      << r.err;
}

// While running: every save fails once `state.json.tmp` is a directory (for root too), as if
// the state directory had turned read-only.
TEST(StateSaveErrorsTest, CountedWhileMonitoringGoesOnAndPurgesAreNotSent) {
  DaemonHarness h(R"(policies:
  - name: on-unhealthy
    match: { name: ["prod-pg"] }
    when: { event: unhealthy, after_failures: 1 }
    action: { purge: connection }
safety: { pause_min_connections: 10 }
)");
  const std::string errors = "hotdata_monitor_state_save_errors_total";
  const std::string failed =
      "hotdata_policy_actions_total{policy=\"on-unhealthy\",action=\"purge_connection\","
      "result=\"failed\"}";
  const std::string pg_cache = "/v1/connections/conn_pg/cache";
  EXPECT_EQ(SeriesValue(h.Metrics(), errors), 0);
  const std::string state = (h.dir().path() / "state.json").string();
  fs::create_directories(state + ".tmp");
  h.fake().SetHealth("conn_pg", false, 20, "down");
  // The purge and its one retry, an interval later: neither is sent.
  ASSERT_TRUE(WaitFor([&] { return SeriesValue(h.Metrics(), failed) == 2; })) << h.Metrics();
  EXPECT_EQ(h.fake().CountRequests("DELETE", pg_cache), 0u);
  EXPECT_GE(SeriesValue(h.Metrics(), errors).value_or(0), 2);
  const std::string actions = h.Get("/api/v1/actions").body;
  EXPECT_NE(actions.find("not sent: the state file could not be written ahead"), std::string::npos)
      << actions;
  // Monitoring goes on, and /metrics answers.
  ASSERT_TRUE(h.WaitForRounds(h.daemon().scheduler().RoundsCompleted() + 2));
  EXPECT_EQ(h.Get("/metrics").status, 200);
  EXPECT_EQ(SeriesValue(h.Metrics(), failed), 2) << "no third attempt";
  // Writable again: the next episode's purge is written ahead, then sent.
  fs::remove(state + ".tmp");
  h.fake().SetHealth("conn_pg", true, 20);
  ASSERT_TRUE(WaitFor([&] {
    return SeriesValue(h.Metrics(),
                       "hotdata_connection_healthy{connection_id=\"conn_pg\","
                       "connection=\"prod-pg\"}") == 1;
  }));
  h.fake().SetHealth("conn_pg", false, 20, "down again");
  ASSERT_TRUE(WaitFor([&] { return h.fake().CountRequests("DELETE", pg_cache) == 1; }));
  auto doc = state::Load(state, std::chrono::system_clock::now());
  ASSERT_TRUE(doc.has_value()) << doc.error().message;
  EXPECT_EQ((*doc)["policy"]["cooldowns"].size(), 1u);
}

}  // namespace
}  // namespace hdm::testing
