// HttpServer with basic auth and TLS, in-process with stub handlers and real clients on
// 127.0.0.1.
#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include <httplib.h>

#include "fakes/fake_hotdata.h"
#include "http/server.h"
#include "unit/http/bcrypt_hash.h"

namespace hdm {
namespace {

constexpr char kUser[] = "prom";
constexpr char kPassword[] = "correct horse";

struct Endpoint {
  std::string method;
  std::string path;
};
const std::vector<Endpoint> kEndpoints = {
    {"GET", "/metrics"},
    {"GET", "/healthz"},
    {"GET", "/readyz"},
    {"POST", "/-/reload"},
    {"GET", "/api/v1/status"},
    {"GET", "/api/v1/actions"},
    {"GET", "/"},
    {"GET", "/?q=prod&fragment=1"},
    {"GET", "/status.js"},
    {"GET", "/status.css"},
    {"GET", "/no/such/path"},
    {"HEAD", "/metrics"},
    {"GET", "/metrics?x=1"},
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hdm-http-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

class ServerSecurityTest : public ::testing::Test {
 protected:
  HttpHandlers Handlers() {
    return {
        .metrics = [] { return std::string("up 1\n"); },
        .alive = [] { return true; },
        .ready = [] { return true; },
        .status_json = [] { return std::string("{}"); },
        .actions_json = [] { return std::string("[]"); },
        .reload = [this]() -> std::expected<void, std::string> {
          ++reloads_;
          return {};
        },
    };
  }
  std::shared_ptr<const BasicAuthChecker> Auth() {
    auto c = BasicAuthChecker::Create(kUser, testing::MakeBcryptHash(kPassword));
    EXPECT_TRUE(c.has_value());
    return std::move(*c);
  }
  std::shared_ptr<const TlsIdentity> Identity(const std::string& sub) {
    const std::string d = dir_ / sub;
    auto written = fake::WriteSelfSignedCert(d);
    EXPECT_TRUE(written.has_value()) << written.error();
    auto id = LoadTlsIdentity(d + "/cert.pem", d + "/key.pem");
    EXPECT_TRUE(id.has_value()) << id.error();
    return id ? *id : nullptr;
  }

  // One request with a fresh client; status -1 when no answer came.
  template <typename Client>
  static httplib::Result Send(Client& cli, const Endpoint& e, const httplib::Headers& headers) {
    cli.set_keep_alive(false);
    cli.set_connection_timeout(2, 0);
    cli.set_read_timeout(2, 0);
    if (e.method == "POST") return cli.Post(e.path, headers, "", "text/plain");
    if (e.method == "HEAD") return cli.Head(e.path, headers);
    return cli.Get(e.path, headers);
  }

  TempDir dir_;
  std::atomic<int> reloads_{0};
};

TEST_F(ServerSecurityTest, WithBasicAuthEveryPathAndMethodNeedsTheCredentials) {
  HttpServer server(Handlers());
  server.SetBasicAuth(Auth());
  auto port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port.has_value()) << port.error();
  for (const Endpoint& e : kEndpoints) {
    SCOPED_TRACE(e.method + " " + e.path);
    for (const httplib::Headers& headers :
         {httplib::Headers{},
          {httplib::make_basic_authentication_header(kUser, "wrong")},
          {httplib::make_basic_authentication_header("root", kPassword)},
          {{"Authorization", "Bearer " + std::string(kPassword)}},
          {{"Authorization", "Basic !!!"}}}) {
      httplib::Client cli("127.0.0.1", *port);
      auto res = Send(cli, e, headers);
      ASSERT_TRUE(res) << httplib::to_string(res.error());
      EXPECT_EQ(res->status, 401);
      EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Basic realm=\"hotdata-monitor\"");
      EXPECT_EQ(res->body.find("up 1"), std::string::npos);
    }
    httplib::Client cli("127.0.0.1", *port);
    auto res = Send(cli, e, {httplib::make_basic_authentication_header(kUser, kPassword)});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, e.path == "/no/such/path" ? 404 : 200);
  }
  EXPECT_EQ(reloads_.load(), 1);  // only the authenticated POST /-/reload reached the handler
}

TEST_F(ServerSecurityTest, WithoutBasicAuthEverythingIsOpenAndAuthCanBeSwappedLive) {
  HttpServer server(Handlers());
  auto port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port.has_value());
  httplib::Client cli("127.0.0.1", *port);
  cli.set_keep_alive(false);
  EXPECT_EQ(cli.Get("/metrics")->status, 200);
  server.SetBasicAuth(Auth());
  EXPECT_EQ(cli.Get("/metrics")->status, 401);
  cli.set_basic_auth(kUser, kPassword);
  EXPECT_EQ(cli.Get("/metrics")->status, 200);
  server.SetBasicAuth(nullptr);
  httplib::Client anonymous("127.0.0.1", *port);
  EXPECT_EQ(anonymous.Get("/metrics")->status, 200);
}

TEST_F(ServerSecurityTest, ServesTlsWithBasicAuthToAClientThatTrustsTheCertificate) {
  auto id = Identity("a");
  HttpServer server(Handlers());
  server.SetBasicAuth(Auth());
  auto port = server.Start("127.0.0.1:0", id);
  ASSERT_TRUE(port.has_value()) << port.error();
  EXPECT_TRUE(server.tls());

  httplib::SSLClient cli("127.0.0.1", *port);
  cli.set_ca_cert_path(dir_ / "a/cert.pem");
  cli.enable_server_certificate_verification(true);
  for (const Endpoint& e : kEndpoints) {
    SCOPED_TRACE(e.method + " " + e.path);
    auto res = Send(cli, e, {});
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 401);
    res = Send(cli, e, {httplib::make_basic_authentication_header(kUser, kPassword)});
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, e.path == "/no/such/path" ? 404 : 200);
  }
}

TEST_F(ServerSecurityTest, PlainHttpToTheTlsPortFailsCleanlyAndTheServerKeepsServing) {
  HttpServer server(Handlers());
  auto port = server.Start("127.0.0.1:0", Identity("a"));
  ASSERT_TRUE(port.has_value());
  httplib::Client plain("127.0.0.1", *port);
  plain.set_read_timeout(2, 0);
  auto res = plain.Get("/metrics");
  EXPECT_FALSE(res && res->status == 200);  // no answer, never the metrics

  httplib::SSLClient cli("127.0.0.1", *port);
  cli.set_ca_cert_path(dir_ / "a/cert.pem");
  cli.enable_server_certificate_verification(true);
  auto ok = cli.Get("/metrics");
  ASSERT_TRUE(ok) << httplib::to_string(ok.error());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerSecurityTest, AClientThatDoesNotTrustTheCertificateIsRefused) {
  HttpServer server(Handlers());
  auto port = server.Start("127.0.0.1:0", Identity("a"));
  ASSERT_TRUE(port.has_value());
  Identity("other");
  httplib::SSLClient cli("127.0.0.1", *port);
  cli.set_ca_cert_path(dir_ / "other/cert.pem");
  cli.enable_server_certificate_verification(true);
  auto res = cli.Get("/metrics");
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error(), httplib::Error::SSLServerVerification);
}

TEST_F(ServerSecurityTest, RefusesTlsBelowVersion1_2) {
  HttpServer server(Handlers());
  auto port = server.Start("127.0.0.1:0", Identity("a"));
  ASSERT_TRUE(port.has_value());
  httplib::SSLClient old("127.0.0.1", *port);
  old.enable_server_certificate_verification(false);
  SSL_CTX_set_security_level(old.ssl_context(), 0);  // let the client offer TLS 1.1 at all
  SSL_CTX_set_min_proto_version(old.ssl_context(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version(old.ssl_context(), TLS1_1_VERSION);
  EXPECT_FALSE(old.Get("/metrics"));

  httplib::SSLClient v12("127.0.0.1", *port);
  v12.enable_server_certificate_verification(false);
  SSL_CTX_set_max_proto_version(v12.ssl_context(), TLS1_2_VERSION);
  auto res = v12.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
}

TEST_F(ServerSecurityTest, ANewCertificateIsPresentedAtTheNextHandshake) {
  HttpServer server(Handlers());
  auto port = server.Start("127.0.0.1:0", Identity("a"));
  ASSERT_TRUE(port.has_value());
  auto trusting = [&](const std::string& sub) {
    httplib::SSLClient cli("127.0.0.1", *port);
    cli.set_keep_alive(false);
    cli.set_ca_cert_path(dir_ / (sub + "/cert.pem"));
    cli.enable_server_certificate_verification(true);
    auto res = cli.Get("/healthz");
    return res && res->status == 200;
  };
  EXPECT_TRUE(trusting("a"));
  ASSERT_TRUE(server.SetTlsIdentity(Identity("b")));
  EXPECT_TRUE(trusting("b"));
  EXPECT_FALSE(trusting("a"));
}

TEST_F(ServerSecurityTest, SetTlsIdentityOnAPlainServerChangesNothing) {
  HttpServer server(Handlers());
  ASSERT_TRUE(server.Start("127.0.0.1:0").has_value());
  EXPECT_FALSE(server.tls());
  EXPECT_FALSE(server.SetTlsIdentity(Identity("a")));
}

TEST_F(ServerSecurityTest, LoadTlsIdentityNamesTheFileAtFault) {
  Identity("a");
  Identity("b");
  const std::string cert = dir_ / "a/cert.pem";
  const std::string key = dir_ / "a/key.pem";
  std::ofstream(dir_ / "junk.pem") << "not a certificate\n";

  auto missing = LoadTlsIdentity(dir_ / "nope.pem", key);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find(dir_ / "nope.pem"), std::string::npos) << missing.error();
  auto junk_cert = LoadTlsIdentity(dir_ / "junk.pem", key);
  ASSERT_FALSE(junk_cert);
  EXPECT_NE(junk_cert.error().find(dir_ / "junk.pem"), std::string::npos) << junk_cert.error();
  auto junk_key = LoadTlsIdentity(cert, dir_ / "junk.pem");
  ASSERT_FALSE(junk_key);
  EXPECT_NE(junk_key.error().find(dir_ / "junk.pem"), std::string::npos) << junk_key.error();
  auto key_as_cert = LoadTlsIdentity(key, key);
  ASSERT_FALSE(key_as_cert);
  EXPECT_NE(key_as_cert.error().find("no PEM certificate in " + key), std::string::npos);
  auto mismatch = LoadTlsIdentity(cert, dir_ / "b/key.pem");
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().find("does not match"), std::string::npos) << mismatch.error();
  EXPECT_TRUE(LoadTlsIdentity(cert, key).has_value());
}

}  // namespace
}  // namespace hdm
