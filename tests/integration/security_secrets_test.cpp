// The hotdata-monitor binary with its secrets: the token appears nowhere it writes (logs at
// debug level, state file, endpoints, --check-config and --once output), the running process
// is not dumpable, and bad server files stop it with exit code 2 and the file's name.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "integration/harness.h"
#include "unit/http/bcrypt_hash.h"

namespace hdm::testing {
namespace {

constexpr char kUser[] = "prom";
constexpr char kPassword[] = "scrape-pass-5529";
constexpr uid_t kNobody = 65534;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The binary, run with stdout and stderr to files; as `nobody` when the test runs as root, so
// that the process's /proc files have an owner other than root unless it is non-dumpable.
class Process {
 public:
  Process(const std::vector<std::string>& args, const std::string& out, const std::string& err,
          bool drop_root = false) {
    std::vector<std::string> argv = args;
    pid_ = fork();
    if (pid_ != 0) return;
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(127);
    if (drop_root && geteuid() == 0) {
      if (setgroups(0, nullptr) != 0 || setgid(kNobody) != 0 || setuid(kNobody) != 0) _exit(126);
    }
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  ~Process() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }
  pid_t pid() const { return pid_; }
  // The exit code, or -1 when it died of a signal.
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  bool Exited() {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      return true;
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
};

std::string Binary() { return std::string(HDM_BINARY_DIR) + "/hotdata-monitor"; }

// A fake API, a token, a certificate, a password hash and a config with TLS and basic auth,
// all readable by `nobody`.
struct BinaryEnv {
  void Init() {
    AddDefaultConnections(fake_);
    ASSERT_GT(fake_.Start(), 0);
    ASSERT_TRUE(fake::WriteSelfSignedCert((dir_.path() / "tls").string()).has_value());
    token_file_ = dir_.Write("token", std::string(kToken) + "\n");
    password_file_ = dir_.Write("password", MakeBcryptHash(kPassword) + "\n");
    out_ = (dir_.path() / "stdout").string();
    err_ = (dir_.path() / "stderr").string();
  }
  ~BinaryEnv() { fake_.Stop(); }
  std::string Config(const std::string& extra = "") {
    std::string config = TestConfig(fake_.base_url(), token_file_, extra);
    const std::string listen = "  listen: \"127.0.0.1:0\"\n";
    config.insert(config.find(listen) + listen.size(),
                  "  tls: { cert_file: " + (dir_.path() / "tls/cert.pem").string() +
                      ", key_file: " + (dir_.path() / "tls/key.pem").string() + " }\n" +
                      "  basic_auth: { username: " + kUser + ", password_file: " + password_file_ +
                      " }\n");
    const std::string path = dir_.Write("config.yaml", config);
    if (geteuid() == 0) {  // for the daemon running as nobody
      chmod(dir_.path().c_str(), 0777);
      for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.path())) {
        (void)chown(entry.path().c_str(), kNobody, kNobody);
      }
      (void)chown(dir_.path().c_str(), kNobody, kNobody);
    }
    return path;
  }
  // The port from the daemon's "listening on ... (port N" line, once it is written.
  int WaitForPort(Process& p) {
    int port = 0;
    WaitFor([&] {
      const std::string err = ReadFile(err_);
      const auto at = err.find("(port ");
      if (at != std::string::npos) port = std::atoi(err.c_str() + at + 6);
      return port > 0 || p.Exited();
    });
    return port;
  }
  std::unique_ptr<httplib::SSLClient> Client(int port) {
    auto cli = std::make_unique<httplib::SSLClient>("127.0.0.1", port);
    cli->set_ca_cert_path((dir_.path() / "tls/cert.pem").string());
    cli->enable_server_certificate_verification(true);
    cli->set_basic_auth(kUser, kPassword);
    cli->set_keep_alive(false);
    cli->set_read_timeout(5, 0);
    return cli;
  }

  fake::FakeHotdataServer fake_;
  TempDir dir_;
  std::string token_file_;
  std::string password_file_;
  std::string out_;
  std::string err_;
};

class SecretsBinaryTest : public ::testing::Test, protected BinaryEnv {
 protected:
  void SetUp() override { Init(); }
};

TEST_F(SecretsBinaryTest, TheRunningDaemonIsNotDumpable) {
  // proc(5): the files of /proc/PID belong to root while the process is not dumpable. The
  // control, a plain process of the same user, shows what they look like otherwise.
  const uid_t user = geteuid() == 0 ? kNobody : geteuid();
  if (user == 0) GTEST_SKIP();
  Process control({"/bin/sleep", "30"}, (dir_.path() / "c.out").string(),
                  (dir_.path() / "c.err").string(), true);
  Process daemon({Binary(), "--config", Config()}, out_, err_, true);
  ASSERT_GT(WaitForPort(daemon), 0) << ReadFile(err_);
  struct stat st {};
  ASSERT_EQ(stat(("/proc/" + std::to_string(control.pid()) + "/status").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, user);
  ASSERT_EQ(stat(("/proc/" + std::to_string(daemon.pid()) + "/status").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "the daemon's /proc files are not root's: it is dumpable";
  const std::string status = ReadFile("/proc/" + std::to_string(daemon.pid()) + "/status");
  EXPECT_NE(status.find("Uid:\t" + std::to_string(user)), std::string::npos) << status;
  kill(daemon.pid(), SIGTERM);
  EXPECT_EQ(daemon.Wait(), 0) << ReadFile(err_);
}

TEST_F(SecretsBinaryTest, BadServerFilesExitTwoNamingTheFile) {
  const std::string config = Config();
  const std::string key = (dir_.path() / "tls/key.pem").string();
  // Missing: a config error, at --check-config and at start.
  std::filesystem::rename(key, key + ".moved");
  Process check({Binary(), "--check-config", "--config", config}, out_, err_);
  EXPECT_EQ(check.Wait(), 2);
  EXPECT_NE(ReadFile(err_).find("server.tls.key_file: cannot read " + key), std::string::npos)
      << ReadFile(err_);
  Process start({Binary(), "--config", config}, out_, err_);
  EXPECT_EQ(start.Wait(), 2);
  EXPECT_NE(ReadFile(err_).find(key), std::string::npos) << ReadFile(err_);
  // Present but not a key: refused when the server starts.
  std::ofstream(key) << "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  Process bad({Binary(), "--config", config}, out_, err_);
  EXPECT_EQ(bad.Wait(), 2);
  EXPECT_NE(ReadFile(err_).find("no PEM private key in " + key), std::string::npos)
      << ReadFile(err_);
}

TEST(SecretsTest, TheTokenAppearsNowhereTheBinaryWritesAtDebugLevel) {
  BinaryEnv t;
  t.Init();
  auto& fake = t.fake_;
  const std::string state = (t.dir_.path() / "state.json").string();
  const std::string config = t.Config(R"(policies:
  - name: on-unhealthy
    when: { event: unhealthy, after_failures: 1 }
    action: { purge: connection }
    cooldown: 1s
)");
  // A hostile or buggy API that echoes the token back: in errors, in bodies, in a purge answer.
  const std::string echo = std::string("{\"error\":{\"message\":\"Bearer ") + kToken + "\"}}";
  fake.Script("GET", "/v1/connections/conn_pg/health", {.status = 500, .body = echo});
  fake.Script("GET", "/v1/connections/conn_my/health",
              {.status = 200, .body = std::string("{\"x\":\"") + kToken + "\"}"});
  fake.Script("DELETE", "/v1/connections/conn_sf/cache", {.status = 503, .body = echo});

  std::string everything;
  {
    Process daemon({Binary(), "--config", config, "--log-level", "debug"}, t.out_, t.err_);
    const int port = t.WaitForPort(daemon);
    ASSERT_GT(port, 0) << ReadFile(t.err_);
    auto get = [&](const std::string& path) {
      auto res = t.Client(port)->Get(path);
      return res ? res->body : std::string();
    };
    ASSERT_TRUE(WaitFor([&] {
      return get("/api/v1/actions").find("on-unhealthy") != std::string::npos;
    })) << ReadFile(t.err_);
    // Wrong credentials, the token offered as a password, and a reload, all logged at debug.
    httplib::SSLClient wrong("127.0.0.1", port);
    wrong.enable_server_certificate_verification(false);
    wrong.set_basic_auth(kUser, kToken);
    EXPECT_EQ(wrong.Get("/metrics")->status, 401);
    auto reload = t.Client(port)->Post("/-/reload");
    ASSERT_TRUE(reload);
    EXPECT_EQ(reload->status, 200);
    for (const char* path :
         {"/metrics", "/api/v1/status", "/api/v1/actions", "/healthz", "/readyz", "/"}) {
      const std::string body = get(path);
      EXPECT_FALSE(body.empty()) << path;
      everything += body;
    }
    kill(daemon.pid(), SIGTERM);
    EXPECT_EQ(daemon.Wait(), 0);
  }
  const std::string log = ReadFile(t.err_) + ReadFile(t.out_);
  EXPECT_NE(log.find("debug"), std::string::npos) << "not at debug level?\n" << log;
  EXPECT_NE(log.find("policy decision"), std::string::npos) << log;
  everything += log + ReadFile(state);
  EXPECT_FALSE(ReadFile(state).empty());

  for (const std::string mode : {"--check-config", "--once"}) {
    Process p({Binary(), mode, "--config", config, "--log-level", "trace"}, t.out_, t.err_);
    p.Wait();
    everything += ReadFile(t.out_) + ReadFile(t.err_);
  }
  EXPECT_NE(everything.find("valid ("), std::string::npos);  // --check-config ran

  EXPECT_EQ(everything.find(kToken), std::string::npos);
  EXPECT_EQ(everything.find(kPassword), std::string::npos);
  EXPECT_EQ(everything.find(ReadFile(t.password_file_).substr(0, 59)), std::string::npos);
}

}  // namespace
}  // namespace hdm::testing
