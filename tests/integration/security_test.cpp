// The monitor's own server behind TLS and basic auth, started as the daemon starts it: every
// endpoint refused without the right credentials, a reload that needs them, certificates and
// passwords rotated by a reload, bad files refused at start.
#include <gtest/gtest.h>
#include <sys/prctl.h>

#include <fstream>

#include "integration/harness.h"
#include "unit/http/bcrypt_hash.h"

namespace hdm::testing {
namespace {

constexpr char kUser[] = "prom";
constexpr char kPassword[] = "scrape-pass-7781";

class SecurityDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AddDefaultConnections(fake_);
    ASSERT_GT(fake_.Start(), 0);
    ASSERT_TRUE(fake::WriteSelfSignedCert((dir_.path() / "tls").string()).has_value());
    password_file_ = dir_.Write("password", MakeBcryptHash(kPassword) + "\n");
    token_file_ = dir_.Write("token", std::string(kToken) + "\n");
    WriteConfig(dir_.path() / "tls");
  }
  void TearDown() override {
    if (daemon_) daemon_->Stop();
    daemon_.reset();
    fake_.Stop();
  }
  void WriteConfig(const std::filesystem::path& tls_dir, const std::string& extra = "") {
    std::string config = TestConfig(fake_.base_url(), token_file_, extra);
    const std::string listen = "  listen: \"127.0.0.1:0\"\n";
    const auto at = config.find(listen);
    ASSERT_NE(at, std::string::npos);
    config.insert(at + listen.size(), "  tls: { cert_file: " + (tls_dir / "cert.pem").string() +
                                          ", key_file: " + (tls_dir / "key.pem").string() + " }\n" +
                                          "  basic_auth: { username: " + kUser +
                                          ", password_file: " + password_file_ + " }\n");
    config_path_ = dir_.Write("config.yaml", config);
  }
  void StartDaemon() {
    auto d = Daemon::Create({.config_path = config_path_});
    ASSERT_TRUE(d.has_value()) << d.error();
    daemon_ = std::move(*d);
    auto port = daemon_->Start();
    ASSERT_TRUE(port.has_value()) << port.error();
    port_ = *port;
  }
  // A TLS client that trusts the certificate in `ca_dir` (default: the one served).
  std::unique_ptr<httplib::SSLClient> Client(const std::string& user = "",
                                             const std::string& password = "",
                                             std::filesystem::path ca_dir = {}) {
    if (ca_dir.empty()) ca_dir = dir_.path() / "tls";
    auto cli = std::make_unique<httplib::SSLClient>("127.0.0.1", port_);
    cli->set_ca_cert_path((ca_dir / "cert.pem").string());
    cli->enable_server_certificate_verification(true);
    cli->set_keep_alive(false);
    cli->set_read_timeout(5, 0);
    if (!user.empty()) cli->set_basic_auth(user, password);
    return cli;
  }
  double Metric(const std::string& series) {
    auto res = Client(kUser, kPassword)->Get("/metrics");
    if (!res) return -1;
    return SeriesValue(res->body, series).value_or(-1);
  }

  fake::FakeHotdataServer fake_;
  TempDir dir_;
  std::string password_file_;
  std::string token_file_;
  std::string config_path_;
  std::unique_ptr<Daemon> daemon_;
  int port_ = 0;
};

TEST_F(SecurityDaemonTest, EveryEndpointNeedsTheCredentialsOverTls) {
  StartDaemon();
  // A round done: every connection has its health series (a discovery alone gives none).
  ASSERT_TRUE(WaitFor([&] { return daemon_->scheduler().RoundsCompleted() >= 1; }));
  const std::vector<std::string> gets = {"/metrics",        "/healthz", "/readyz", "/api/v1/status",
                                         "/api/v1/actions", "/",        "/nope"};
  for (const std::string& path : gets) {
    SCOPED_TRACE(path);
    std::vector<std::unique_ptr<httplib::SSLClient>> refused;
    refused.push_back(Client());
    refused.push_back(Client(kUser, "wrong"));
    refused.push_back(Client("admin", kPassword));
    refused.push_back(Client(kUser, kToken));
    for (auto& cli : refused) {
      auto res = cli->Get(path);
      ASSERT_TRUE(res) << httplib::to_string(res.error());
      EXPECT_EQ(res->status, 401);
      EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Basic realm=\"hotdata-monitor\"");
    }
    auto res = Client(kUser, kPassword)->Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, path == "/nope" ? 404 : 200) << res->body;
  }
  auto metrics = Client(kUser, kPassword)->Get("/metrics");
  EXPECT_NE(metrics->body.find("hotdata_connection_healthy"), std::string::npos);
}

TEST_F(SecurityDaemonTest, ReloadWithoutCredentialsIsRefusedAndReadsNothing) {
  StartDaemon();
  std::ofstream(config_path_, std::ios::app) << "bogus_key: 1\n";  // a reload would fail
  for (const std::string& password : {std::string(), std::string("wrong")}) {
    auto res = (password.empty() ? Client() : Client(kUser, password))->Post("/-/reload");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401);
  }
  EXPECT_EQ(Metric("hotdata_monitor_config_last_reload_successful"), 1);
  auto res = Client(kUser, kPassword)->Post("/-/reload");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500) << res->body;
  EXPECT_EQ(Metric("hotdata_monitor_config_last_reload_successful"), 0);
}

TEST_F(SecurityDaemonTest, AReloadRotatesThePasswordAndTheCertificate) {
  StartDaemon();
  ASSERT_TRUE(fake::WriteSelfSignedCert((dir_.path() / "tls2").string()).has_value());
  const std::string next_password = "rotated-pass-1";
  dir_.Write("password", MakeBcryptHash(next_password));
  WriteConfig(dir_.path() / "tls2");
  auto res = Client(kUser, kPassword)->Post("/-/reload");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;

  EXPECT_EQ(Client(kUser, kPassword, dir_.path() / "tls2")->Get("/metrics")->status, 401);
  EXPECT_EQ(Client(kUser, next_password, dir_.path() / "tls2")->Get("/metrics")->status, 200);
  auto old_cert = Client(kUser, next_password, dir_.path() / "tls")->Get("/metrics");
  ASSERT_FALSE(old_cert);
  EXPECT_EQ(old_cert.error(), httplib::Error::SSLServerVerification);
}

TEST_F(SecurityDaemonTest, AReloadWithAPlainPasswordFailsAndKeepsTheOldOne) {
  StartDaemon();
  dir_.Write("password", std::string(kPassword) + "\n");
  auto res = Client(kUser, kPassword)->Post("/-/reload");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_NE(res->body.find("does not hold a bcrypt hash"), std::string::npos) << res->body;
  EXPECT_EQ(res->body.find(kPassword), std::string::npos) << res->body;
  EXPECT_EQ(Client(kUser, kPassword)->Get("/metrics")->status, 200);
}

TEST_F(SecurityDaemonTest, PlainHttpToTheTlsPortGetsNoAnswer) {
  StartDaemon();
  httplib::Client plain("127.0.0.1", port_);
  plain.set_read_timeout(2, 0);
  auto res = plain.Get("/metrics");
  EXPECT_FALSE(res && res->status == 200);
  EXPECT_EQ(Client(kUser, kPassword)->Get("/healthz")->status, 200);  // still serving
}

TEST_F(SecurityDaemonTest, TheProcessIsNotDumpableOnceItHoldsTheToken) {
  StartDaemon();
  EXPECT_EQ(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}

TEST_F(SecurityDaemonTest, ABadKeyFailsTheStartNamingTheFile) {
  ASSERT_TRUE(fake::WriteSelfSignedCert((dir_.path() / "other").string()).has_value());
  // The key of another certificate: a readable PEM file, refused when the server starts.
  std::filesystem::copy_file(dir_.path() / "other/key.pem", dir_.path() / "tls/key.pem",
                             std::filesystem::copy_options::overwrite_existing);
  auto d = Daemon::Create({.config_path = config_path_});
  ASSERT_TRUE(d.has_value()) << d.error();
  auto port = (*d)->Start();
  ASSERT_FALSE(port.has_value());
  EXPECT_NE(port.error().message.find((dir_.path() / "tls/key.pem").string()), std::string::npos)
      << port.error();
}

}  // namespace
}  // namespace hdm::testing
