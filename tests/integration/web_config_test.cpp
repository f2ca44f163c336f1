// --web.config.file: the daemon serves with the TLS, client certificate policy, basic auth users
// and headers of an exporter-toolkit web config file, re-reads it at a reload (a bad one keeps the
// running settings), and refuses a main config that sets server.tls or server.basic_auth too.
#include <gtest/gtest.h>

#include <fstream>

#include "integration/harness.h"
#include "unit/http/bcrypt_hash.h"

namespace hdm::testing {
namespace {

constexpr char kAlicePassword[] = "alice-pass-1";
constexpr char kBobPassword[] = "bob-pass-2";

class WebConfigDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AddDefaultConnections(fake_);
    ASSERT_GT(fake_.Start(), 0);
    ASSERT_TRUE(fake::WriteSelfSignedCert((dir_.path() / "server").string()).has_value());
    ASSERT_TRUE(fake::WriteSelfSignedClientCert((dir_.path() / "client").string()).has_value());
    ASSERT_TRUE(fake::WriteSelfSignedClientCert((dir_.path() / "stranger").string()).has_value());
    alice_hash_ = MakeBcryptHash(kAlicePassword);
    bob_hash_ = MakeBcryptHash(kBobPassword);
    token_file_ = dir_.Write("token", std::string(kToken) + "\n");
    config_path_ = dir_.Write("config.yaml", TestConfig(fake_.base_url(), token_file_));
    WriteWebConfig();
  }
  void TearDown() override {
    if (daemon_) daemon_->Stop();
    daemon_.reset();
    fake_.Stop();
  }
  // Paths relative to the web config file's directory, as exporter-toolkit resolves them.
  void WriteWebConfig(const std::string& frame_options = "deny",
                      const std::string& extra_users = "") {
    web_config_path_ = dir_.Write("web.yml",
                                  "tls_server_config:\n"
                                  "  cert_file: server/cert.pem\n"
                                  "  key_file: server/key.pem\n"
                                  "  client_auth_type: RequireAndVerifyClientCert\n"
                                  "  client_ca_file: client/cert.pem\n"
                                  "  min_version: TLS12\n"
                                  "basic_auth_users:\n"
                                  "  alice: " +
                                      alice_hash_ +
                                      "\n"
                                      "  bob: " +
                                      bob_hash_ + "\n" + extra_users +
                                      "http_server_config:\n"
                                      "  headers:\n"
                                      "    X-Frame-Options: " +
                                      frame_options +
                                      "\n"
                                      "    Content-Security-Policy: \"default-src 'self'\"\n");
  }
  std::expected<std::unique_ptr<Daemon>, StartError> Create() {
    return Daemon::Create({.config_path = config_path_, .web_config_file = web_config_path_});
  }
  void StartDaemon() {
    auto d = Create();
    ASSERT_TRUE(d.has_value()) << d.error();
    daemon_ = std::move(*d);
    auto port = daemon_->Start();
    ASSERT_TRUE(port.has_value()) << port.error();
    port_ = *port;
  }
  // An HTTPS client that trusts the server's certificate and presents the client certificate of
  // `cert_dir` ("client", "stranger"), or none when empty.
  std::unique_ptr<httplib::SSLClient> Client(const std::string& cert_dir,
                                             const std::string& user = "",
                                             const std::string& password = "") {
    std::unique_ptr<httplib::SSLClient> cli;
    if (cert_dir.empty()) {
      cli = std::make_unique<httplib::SSLClient>("127.0.0.1", port_);
    } else {
      const auto dir = dir_.path() / cert_dir;
      cli = std::make_unique<httplib::SSLClient>("127.0.0.1", port_, (dir / "cert.pem").string(),
                                                 (dir / "key.pem").string());
    }
    cli->set_ca_cert_path((dir_.path() / "server/cert.pem").string());
    cli->enable_server_certificate_verification(true);
    cli->set_keep_alive(false);
    cli->set_read_timeout(5, 0);
    if (!user.empty()) cli->set_basic_auth(user, password);
    return cli;
  }

  fake::FakeHotdataServer fake_;
  TempDir dir_;
  std::string alice_hash_;
  std::string bob_hash_;
  std::string token_file_;
  std::string config_path_;
  std::string web_config_path_;
  std::unique_ptr<Daemon> daemon_;
  int port_ = 0;
};

TEST_F(WebConfigDaemonTest, ServesWithClientCertificatesBasicAuthUsersAndHeaders) {
  StartDaemon();
  // A round done: every connection has its health series (a discovery alone gives none).
  ASSERT_TRUE(WaitFor([&] { return daemon_->scheduler().RoundsCompleted() >= 1; }));

  // Both users, with the client certificate: served, with the configured headers.
  for (const auto& [user, password] :
       {std::pair{"alice", kAlicePassword}, std::pair{"bob", kBobPassword}}) {
    SCOPED_TRACE(user);
    auto res = Client("client", user, password)->Get("/metrics");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
    EXPECT_NE(res->body.find("hotdata_connection_healthy"), std::string::npos);
    EXPECT_EQ(res->get_header_value("X-Frame-Options"), "deny");
    EXPECT_EQ(res->get_header_value("Content-Security-Policy"), "default-src 'self'");
  }
  // A user's password is not another's; the 401 carries the headers too.
  for (const auto& [user, password] :
       {std::pair{"alice", kBobPassword}, std::pair{"bob", kAlicePassword},
        std::pair{"carol", kAlicePassword}}) {
    SCOPED_TRACE(std::string(user) + ":" + password);
    auto res = Client("client", user, password)->Get("/metrics");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 401);
    EXPECT_EQ(res->get_header_value("X-Frame-Options"), "deny");
  }
  auto anonymous = Client("client")->Get("/healthz");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);

  // No client certificate, or one the client CA did not issue: no HTTP exchange at all.
  for (const std::string& cert : {std::string(), std::string("stranger")}) {
    SCOPED_TRACE("client certificate: " + (cert.empty() ? std::string("none") : cert));
    auto res = Client(cert, "alice", kAlicePassword)->Get("/metrics");
    EXPECT_FALSE(res) << res->status;
  }
  // The server keeps serving after the refused handshakes.
  EXPECT_EQ(Client("client", "alice", kAlicePassword)->Get("/healthz")->status, 200);
}

TEST_F(WebConfigDaemonTest, AReloadRereadsTheWebConfigAndABadOneKeepsTheRunningSettings) {
  StartDaemon();
  // A third user and another header value, taken at the reload.
  const std::string carol = "  carol: " + MakeBcryptHash("carol-pass-3") + "\n";
  WriteWebConfig("sameorigin", carol);
  auto res = Client("client", "alice", kAlicePassword)->Post("/-/reload");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  auto carol_get = Client("client", "carol", "carol-pass-3")->Get("/metrics");
  ASSERT_TRUE(carol_get);
  EXPECT_EQ(carol_get->status, 200);
  EXPECT_EQ(carol_get->get_header_value("X-Frame-Options"), "sameorigin");

  // A header value exporter-toolkit refuses: the reload fails, naming the web config file and
  // the key, and the previous users and headers stay.
  WriteWebConfig("allow-all", carol);
  res = Client("client", "carol", "carol-pass-3")->Post("/-/reload");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_NE(res->body.find(web_config_path_), std::string::npos) << res->body;
  EXPECT_NE(res->body.find("http_server_config.headers.X-Frame-Options"), std::string::npos)
      << res->body;
  auto after = Client("client", "carol", "carol-pass-3")->Get("/metrics");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(after->get_header_value("X-Frame-Options"), "sameorigin");
  auto metrics = Client("client", "alice", kAlicePassword)->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("hotdata_monitor_config_last_reload_successful 0"),
            std::string::npos);
}

TEST_F(WebConfigDaemonTest, TheMainConfigMayNotSetTlsOrBasicAuthToo) {
  const std::string password_file = dir_.Write("password", MakeBcryptHash("x") + "\n");
  std::string config = TestConfig(fake_.base_url(), token_file_);
  const std::string listen = "  listen: \"127.0.0.1:0\"\n";
  const auto at = config.find(listen);
  ASSERT_NE(at, std::string::npos);
  config.insert(at + listen.size(),
                "  tls: { cert_file: " + (dir_.path() / "server/cert.pem").string() +
                    ", key_file: " + (dir_.path() / "server/key.pem").string() + " }\n" +
                    "  basic_auth: { username: prom, password_file: " + password_file + " }\n");
  config_path_ = dir_.Write("config.yaml", config);
  auto d = Create();
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().kind, StartError::Kind::kConfig);
  EXPECT_NE(d.error().message.find("server.tls: is set here and --web.config.file"),
            std::string::npos)
      << d.error();
  EXPECT_NE(d.error().message.find("server.basic_auth: is set here"), std::string::npos)
      << d.error();
}

TEST_F(WebConfigDaemonTest, AMissingClientCaFileFailsTheStartNamingIt) {
  std::filesystem::remove(dir_.path() / "client/cert.pem");
  auto d = Create();
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().kind, StartError::Kind::kConfig);
  EXPECT_NE(d.error().message.find("tls_server_config.client_ca_file"), std::string::npos)
      << d.error();
  EXPECT_NE(d.error().message.find((dir_.path() / "client/cert.pem").string()), std::string::npos)
      << d.error();
}

}  // namespace
}  // namespace hdm::testing
