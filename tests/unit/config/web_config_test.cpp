// --web.config.file: exporter-toolkit's web configuration format (config/web_config.h).
#include "config/web_config.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>

namespace hdm {
namespace {

// Well-formed bcrypt hashes (the format is all the parser checks).
constexpr char kHashA[] = "$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG";
constexpr char kHashB[] = "$2b$12$abcdefghijklmnopqrstuu5Fq7ZwJ5B9DGzV6YkR4mKbJ8cG5M6iB";

// Every error of `yaml`, one per line.
std::string Errors(const std::string& yaml) {
  auto web = ParseWebConfig(yaml, "web.yml");
  if (web) return "";
  std::string out;
  for (const auto& e : web.error()) out += e.ToString() + "\n";
  return out;
}

TEST(WebConfigTest, AnEmptyFileConfiguresNothing) {
  for (const std::string& text : {std::string(), std::string("# nothing\n"), std::string("{}")}) {
    auto web = ParseWebConfig(text, "web.yml");
    ASSERT_TRUE(web.has_value()) << Errors(text);
    EXPECT_FALSE(web->tls);
    EXPECT_TRUE(web->basic_auth_users.empty());
    EXPECT_TRUE(web->headers.empty());
    EXPECT_EQ(web->Summary(), "no TLS, no basic auth, 0 headers");
  }
}

TEST(WebConfigTest, ParsesEveryKey) {
  const std::string yaml = std::string() +
                           "tls_server_config:\n"
                           "  cert_file: /etc/hdm/cert.pem\n"
                           "  key_file: /etc/hdm/key.pem\n"
                           "  client_auth_type: RequireAndVerifyClientCert\n"
                           "  client_ca_file: /etc/hdm/ca.pem\n"
                           "  min_version: TLS13\n"
                           "  max_version: TLS13\n"
                           "  prefer_server_cipher_suites: false\n"
                           "basic_auth_users:\n"
                           "  prom: " +
                           kHashA +
                           "\n"
                           "  grafana: \"" +
                           kHashB +
                           "\"\n"
                           "http_server_config:\n"
                           "  http2: false\n"
                           "  headers:\n"
                           "    Strict-Transport-Security: max-age=31536000\n"
                           "    X-Content-Type-Options: nosniff\n"
                           "    X-Frame-Options: sameorigin\n"
                           "    X-XSS-Protection: \"1; mode=block\"\n"
                           "    Content-Security-Policy: \"default-src 'self'\"\n";
  auto web = ParseWebConfig(yaml, "/etc/hdm/web.yml");
  ASSERT_TRUE(web.has_value()) << Errors(yaml);
  ASSERT_TRUE(web->tls);
  EXPECT_EQ(web->tls->cert_file, "/etc/hdm/cert.pem");
  EXPECT_EQ(web->tls->key_file, "/etc/hdm/key.pem");
  EXPECT_EQ(web->tls->client_auth, ClientAuthType::kRequireAndVerifyClientCert);
  EXPECT_EQ(web->tls->client_ca_file, "/etc/hdm/ca.pem");
  EXPECT_EQ(web->tls->min_version, TlsVersion::kTls13);
  EXPECT_EQ(web->tls->max_version, TlsVersion::kTls13);
  EXPECT_FALSE(web->tls->prefer_server_cipher_suites);
  EXPECT_EQ(web->basic_auth_users,
            (std::map<std::string, std::string>{{"prom", kHashA}, {"grafana", kHashB}}));
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"Strict-Transport-Security", "max-age=31536000"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "sameorigin"},
      {"X-XSS-Protection", "1; mode=block"},
      {"Content-Security-Policy", "default-src 'self'"},
  };
  EXPECT_EQ(web->headers, headers);
  EXPECT_EQ(web->http2, false);
  EXPECT_TRUE(web->Notes().empty());
  EXPECT_EQ(web->Summary(),
            "TLS (client certificates required and verified), 2 basic auth users, 5 headers");
}

TEST(WebConfigTest, TheDefaultsAreExporterToolkits) {
  auto web = ParseWebConfig("tls_server_config: { cert_file: c.pem, key_file: k.pem }\n", "w.yml");
  ASSERT_TRUE(web.has_value());
  ASSERT_TRUE(web->tls);
  EXPECT_EQ(web->tls->client_auth, ClientAuthType::kNoClientCert);
  EXPECT_EQ(web->tls->client_ca_file, "");
  EXPECT_EQ(web->tls->min_version, TlsVersion::kTls12);
  EXPECT_EQ(web->tls->max_version, TlsVersion::kTls13);
  EXPECT_TRUE(web->tls->prefer_server_cipher_suites);
  EXPECT_FALSE(web->http2);
}

TEST(WebConfigTest, RelativePathsAreRelativeToTheWebConfigFile) {
  const std::string yaml =
      "tls_server_config:\n  cert_file: tls/cert.pem\n  key_file: /abs/key.pem\n"
      "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.pem\n";
  auto web = ParseWebConfig(yaml, "/etc/hotdata-monitor/web.yml");
  ASSERT_TRUE(web.has_value()) << Errors(yaml);
  EXPECT_EQ(web->tls->cert_file, "/etc/hotdata-monitor/tls/cert.pem");
  EXPECT_EQ(web->tls->key_file, "/abs/key.pem");
  EXPECT_EQ(web->tls->client_ca_file, "/etc/hotdata-monitor/ca.pem");
  // A file name without a directory leaves them as they are (relative to the working directory).
  auto here = ParseWebConfig(yaml, "web.yml");
  ASSERT_TRUE(here.has_value());
  EXPECT_EQ(here->tls->cert_file, "tls/cert.pem");
}

TEST(WebConfigTest, EveryClientAuthType) {
  const std::vector<std::pair<std::string, ClientAuthType>> cases = {
      {"NoClientCert", ClientAuthType::kNoClientCert},
      {"RequestClientCert", ClientAuthType::kRequestClientCert},
      {"RequireAnyClientCert", ClientAuthType::kRequireAnyClientCert},
      {"RequireClientCert", ClientAuthType::kRequireAnyClientCert},  // exporter-toolkit's alias
      {"VerifyClientCertIfGiven", ClientAuthType::kVerifyClientCertIfGiven},
      {"RequireAndVerifyClientCert", ClientAuthType::kRequireAndVerifyClientCert},
  };
  for (const auto& [name, type] : cases) {
    SCOPED_TRACE(name);
    const std::string ca = name == "NoClientCert" ? "" : ", client_ca_file: ca.pem";
    const std::string yaml =
        "tls_server_config: { cert_file: c, key_file: k, client_auth_type: " + name + ca + " }\n";
    auto web = ParseWebConfig(yaml, "w.yml");
    ASSERT_TRUE(web.has_value()) << Errors(yaml);
    EXPECT_EQ(web->tls->client_auth, type);
  }
}

TEST(WebConfigTest, EveryTlsVersion) {
  const std::vector<std::pair<std::string, TlsVersion>> cases = {
      {"TLS10", TlsVersion::kTls10},
      {"TLS11", TlsVersion::kTls11},
      {"TLS12", TlsVersion::kTls12},
      {"TLS13", TlsVersion::kTls13},
  };
  for (const auto& [name, version] : cases) {
    SCOPED_TRACE(name);
    const std::string yaml =
        "tls_server_config: { cert_file: c, key_file: k, min_version: " + name +
        ", max_version: " + name + " }\n";
    auto web = ParseWebConfig(yaml, "w.yml");
    ASSERT_TRUE(web.has_value()) << Errors(yaml);
    EXPECT_EQ(web->tls->min_version, version);
    EXPECT_EQ(web->tls->max_version, version);
  }
}

TEST(WebConfigTest, Http2TrueIsAcceptedWithANote) {
  auto web = ParseWebConfig("http_server_config: { http2: true }\n", "w.yml");
  ASSERT_TRUE(web.has_value());
  ASSERT_EQ(web->Notes().size(), 1u);
  EXPECT_NE(web->Notes()[0].find("w.yml: http_server_config.http2: hotdata-monitor serves "
                                 "HTTP/1.1 only"),
            std::string::npos);
}

// Every error: the file, line and column, the key, and what is wrong.
TEST(WebConfigTest, EveryError) {
  const std::string tls = "tls_server_config:\n  cert_file: c\n  key_file: k\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"- a\n", "web.yml:1:1: expected a mapping at the top level, got a list"},
      {"tls_server_config: [\n", "web.yml:2:1: YAML syntax error"},
      {"tls_server_config: x\n", "web.yml:1:20: tls_server_config: expected a mapping"},
      {"tls_server_config:\n  key_file: k\n",
       "web.yml:2:3: tls_server_config.cert_file: required key is missing"},
      {"tls_server_config:\n  cert_file: c\n",
       "web.yml:2:3: tls_server_config.key_file: required key is missing"},
      {"tls_server_config:\n  cert_file: \"\"\n  key_file: k\n",
       "web.yml:2:14: tls_server_config.cert_file: must not be empty"},
      {tls + "  client_auth_type: Always\n",
       "web.yml:4:21: tls_server_config.client_auth_type: expected one of NoClientCert, "
       "RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, "
       "RequireAndVerifyClientCert, got \"Always\""},
      {tls + "  client_auth_type: requireandverifyclientcert\n  client_ca_file: ca\n",
       "(the names are case-sensitive: RequireAndVerifyClientCert)"},
      {tls + "  client_auth_type: RequireAndVerifyClientCert\n",
       "web.yml:4:21: tls_server_config.client_auth_type: verifying client certificates needs "
       "client_ca_file"},
      {tls + "  client_auth_type: VerifyClientCertIfGiven\n",
       "tls_server_config.client_auth_type: verifying client certificates needs client_ca_file"},
      {tls + "  client_ca_file: ca.pem\n",
       "web.yml:4:3: tls_server_config.client_ca_file: is set but client_auth_type is "
       "NoClientCert"},
      {tls + "  client_auth_type: NoClientCert\n  client_ca_file: ca.pem\n",
       "tls_server_config.client_ca_file: is set but client_auth_type is NoClientCert"},
      {tls + "  min_version: TLS1.2\n",
       "web.yml:4:16: tls_server_config.min_version: expected one of TLS10, TLS11, TLS12, TLS13, "
       "got \"TLS1.2\""},
      {tls + "  max_version: tls13\n",
       "tls_server_config.max_version: expected one of TLS10, TLS11, TLS12, TLS13, got \"tls13\" "
       "(the names are case-sensitive: TLS13)"},
      {tls + "  min_version: TLS13\n  max_version: TLS12\n",
       "web.yml:4:3: tls_server_config.min_version: min_version is above max_version"},
      {tls + "  max_version: TLS11\n",
       "web.yml:4:3: tls_server_config.max_version: min_version is above max_version"},
      {tls + "  prefer_server_cipher_suites: sometimes\n",
       "tls_server_config.prefer_server_cipher_suites: expected"},
      {tls + "  cert: \"-----BEGIN CERTIFICATE-----\"\n",
       "web.yml:4:3: tls_server_config.cert: not supported by hotdata-monitor; put the PEM "
       "certificate in a file and name it with cert_file"},
      {tls + "  key: secret\n",
       "web.yml:4:3: tls_server_config.key: not supported by hotdata-monitor"},
      {tls + "  client_ca: pem\n",
       "web.yml:4:3: tls_server_config.client_ca: not supported by hotdata-monitor"},
      {tls + "  client_allowed_sans: [a]\n",
       "web.yml:4:3: tls_server_config.client_allowed_sans: not supported by hotdata-monitor"},
      {tls + "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
       "web.yml:4:3: tls_server_config.cipher_suites: not supported by hotdata-monitor; the "
       "OpenSSL defaults of the system apply"},
      {tls + "  curve_preferences: [X25519]\n",
       "web.yml:4:3: tls_server_config.curve_preferences: not supported by hotdata-monitor"},
      {tls + "  min_versoin: TLS12\n",
       "web.yml:4:3: tls_server_config.min_versoin: unknown key \"min_versoin\" (did you mean "
       "\"min_version\"?)"},
      {"rate_limit: { interval: 1s, burst: 5 }\n",
       "web.yml:1:1: rate_limit: not supported by hotdata-monitor"},
      {"basic_auth_user:\n  prom: x\n",
       "web.yml:1:1: basic_auth_user: unknown key \"basic_auth_user\" (did you mean "
       "\"basic_auth_users\"?)"},
      {"basic_auth_users: [prom]\n",
       "web.yml:1:19: basic_auth_users: expected a mapping of user names to bcrypt hashes"},
      {"basic_auth_users:\n  prom: hunter2\n",
       "web.yml:2:9: basic_auth_users.prom: not a bcrypt hash (expected a bcrypt hash starting "
       "$2b$, $2y$ or $2a$); plain passwords are not accepted"},
      {"basic_auth_users:\n  prom:\n",
       "web.yml:2:3: basic_auth_users.prom: expected the user's "
       "bcrypt hash"},
      {"basic_auth_users:\n  prom: [a]\n",
       "web.yml:2:9: basic_auth_users.prom: expected the user's bcrypt hash"},
      {"basic_auth_users:\n  \"a:b\": " + std::string(kHashA) + "\n",
       "web.yml:2:3: basic_auth_users.a:b: a user name must not contain ':'"},
      {"basic_auth_users:\n  \"\": " + std::string(kHashA) + "\n",
       "web.yml:2:3: basic_auth_users: a user name must not be empty"},
      {"basic_auth_users:\n  prom: " + std::string(kHashA) + "\n  prom: " + kHashB + "\n",
       "web.yml:3:3: basic_auth_users.prom: duplicate user \"prom\""},
      {"http_server_config: [a]\n", "web.yml:1:21: http_server_config: expected a mapping"},
      {"http_server_config:\n  header: {}\n",
       "web.yml:2:3: http_server_config.header: unknown key \"header\" (did you mean "
       "\"headers\"?)"},
      {"http_server_config:\n  http2: maybe\n", "web.yml:2:10: http_server_config.http2: expected"},
      {"http_server_config:\n  headers: [a]\n",
       "web.yml:2:12: http_server_config.headers: expected a mapping of header names to values"},
      {"http_server_config:\n  headers:\n    Authorization: Basic x\n",
       "web.yml:3:5: http_server_config.headers.Authorization: HTTP header \"Authorization\" can "
       "not be configured; the headers that can be are Strict-Transport-Security, "
       "X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, Content-Security-Policy"},
      {"http_server_config:\n  headers:\n    Content-Type: text/html\n",
       "http_server_config.headers.Content-Type: HTTP header \"Content-Type\" can not be "
       "configured"},
      {"http_server_config:\n  headers:\n    x-frame-options: deny\n",
       "web.yml:3:5: http_server_config.headers.x-frame-options: HTTP header \"x-frame-options\" "
       "can not be configured; write it X-Frame-Options (the names are case-sensitive)"},
      {"http_server_config:\n  headers:\n    X-Frame-Options: DENY\n",
       "web.yml:3:22: http_server_config.headers.X-Frame-Options: expected one of deny, "
       "sameorigin, got \"DENY\""},
      {"http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
       "http_server_config.headers.X-Content-Type-Options: expected one of nosniff, got "
       "\"sniff\""},
      {"http_server_config:\n  headers:\n    X-XSS-Protection: \"0\\r\\nSet-Cookie: a=b\"\n",
       "web.yml:3:23: http_server_config.headers.X-XSS-Protection: must not contain control "
       "characters"},
      {"http_server_config:\n  headers:\n    X-XSS-Protection: [a]\n",
       "http_server_config.headers.X-XSS-Protection: expected a string, got a list"},
      {"http_server_config:\n  headers:\n    X-XSS-Protection: \"0\"\n    X-XSS-Protection: "
       "\"1\"\n",
       "web.yml:4:5: http_server_config.headers.X-XSS-Protection: duplicate header"},
      {"tls_server_config: {}\nbogus: 1\n", "web.yml:2:1: bogus: unknown key \"bogus\""},
  };
  for (const auto& [yaml, expected] : cases) {
    SCOPED_TRACE(yaml);
    const std::string errors = Errors(yaml);
    EXPECT_NE(errors.find(expected), std::string::npos) << errors;
  }
}

TEST(WebConfigTest, EveryProblemIsReportedAtOnce) {
  const std::string errors = Errors(
      "tls_server_config: { cert_file: c, min_version: TLS9 }\n"
      "basic_auth_users: { prom: plain }\n"
      "http_server_config: { headers: { Server: x } }\n");
  EXPECT_NE(errors.find("tls_server_config.key_file"), std::string::npos) << errors;
  EXPECT_NE(errors.find("tls_server_config.min_version"), std::string::npos) << errors;
  EXPECT_NE(errors.find("basic_auth_users.prom"), std::string::npos) << errors;
  EXPECT_NE(errors.find("http_server_config.headers.Server"), std::string::npos) << errors;
}

TEST(WebConfigTest, AnErrorNeverQuotesAPasswordOrAHash) {
  const std::string errors = Errors(
      "basic_auth_users:\n  prom: hunter2-secret\n"
      "  \"a:b\": $2y$10$tooShortSecretHash\n"
      "  bob: $2y$10$tooShortSecretHash2\n");
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.find("hunter2-secret"), std::string::npos) << errors;
  EXPECT_EQ(errors.find("tooShortSecretHash"), std::string::npos) << errors;
  EXPECT_NE(errors.find("a bcrypt hash has 60 characters"), std::string::npos) << errors;
}

// A near miss of every rule: accepted.
TEST(WebConfigTest, NearMissesAreAccepted) {
  const std::string yaml = std::string() +
                           // A CA file without verification is fine when a certificate is asked.
                           "tls_server_config:\n"
                           "  cert_file: c\n"
                           "  key_file: k\n"
                           "  client_auth_type: RequireAnyClientCert\n"
                           "  client_ca_file: ca.pem\n"
                           "  min_version: TLS12\n"
                           "  max_version: TLS12\n"
                           "basic_auth_users:\n"
                           "  \"prom user\": " +
                           kHashA +
                           "\n"
                           "http_server_config:\n"
                           "  headers:\n"
                           "    X-Frame-Options: sameorigin\n"
                           "    X-XSS-Protection: \"\"\n"  // blank: unset
                           "    Strict-Transport-Security: \"max-age=1;\\tpreload\"\n";
  auto web = ParseWebConfig(yaml, "w.yml");
  ASSERT_TRUE(web.has_value()) << Errors(yaml);
  EXPECT_EQ(web->tls->client_auth, ClientAuthType::kRequireAnyClientCert);
  EXPECT_TRUE(web->basic_auth_users.contains("prom user"));
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"X-Frame-Options", "sameorigin"}, {"Strict-Transport-Security", "max-age=1;\tpreload"}};
  EXPECT_EQ(web->headers, headers);
  // An empty or null tls_server_config turns nothing on.
  for (const std::string& empty :
       {std::string("tls_server_config:\n"), std::string("tls_server_config: {}\n")}) {
    auto none = ParseWebConfig(empty, "w.yml");
    ASSERT_TRUE(none.has_value()) << Errors(empty);
    EXPECT_FALSE(none->tls);
  }
}

class WebConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hdm-web-config-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    Write("cert.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    Write("key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    Write("config.yaml", "api:\n  base_url: http://127.0.0.1:1\nserver:\n  listen: \":9977\"\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  static std::string Text(const std::vector<ConfigError>& errors) {
    std::string out;
    for (const auto& e : errors) out += e.ToString() + "\n";
    return out;
  }
  std::filesystem::path dir_;
};

TEST_F(WebConfigFileTest, LoadChecksTheFilesItNames) {
  const std::string web = Write("web.yml",
                                "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"
                                "  client_auth_type: RequireAndVerifyClientCert\n"
                                "  client_ca_file: ca.pem\n");
  auto missing = LoadWebConfig(web);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(Text(missing.error()), web + ": tls_server_config.client_ca_file: cannot read " +
                                       (dir_ / "ca.pem").string() +
                                       ": No such file or directory\n");
  Write("ca.pem", "not pem");
  auto junk = LoadWebConfig(web);
  ASSERT_FALSE(junk.has_value());
  EXPECT_NE(Text(junk.error())
                .find("tls_server_config.client_ca_file: " + (dir_ / "ca.pem").string() +
                      " is not a PEM file"),
            std::string::npos);
  std::filesystem::copy_file(dir_ / "cert.pem", dir_ / "ca.pem",
                             std::filesystem::copy_options::overwrite_existing);
  auto ok = LoadWebConfig(web);
  ASSERT_TRUE(ok.has_value()) << Text(ok.error());
  EXPECT_EQ(ok->tls->client_ca_file, (dir_ / "ca.pem").string());

  auto absent = LoadWebConfig((dir_ / "nope.yml").string());
  ASSERT_FALSE(absent.has_value());
  EXPECT_EQ(Text(absent.error()),
            (dir_ / "nope.yml").string() + ": cannot read file: No such file or directory\n");
}

TEST_F(WebConfigFileTest, TheWebConfigFillsTheServerSection) {
  const std::string web = Write("web.yml",
                                "tls_server_config: { cert_file: cert.pem, key_file: key.pem }\n"
                                "basic_auth_users: { prom: " +
                                    std::string(kHashA) +
                                    " }\n"
                                    "http_server_config: { headers: { X-Frame-Options: deny } }\n");
  WebConfig loaded;
  auto config = LoadConfigAndWebConfig((dir_ / "config.yaml").string(), web, &loaded);
  ASSERT_TRUE(config.has_value()) << Text(config.error());
  EXPECT_EQ(config->server.web_config_file, web);
  ASSERT_TRUE(config->server.tls);
  EXPECT_EQ(config->server.tls->cert_file, (dir_ / "cert.pem").string());
  EXPECT_EQ(config->server.basic_auth_users.size(), 1u);
  EXPECT_EQ(config->server.headers.size(), 1u);
  EXPECT_FALSE(config->server.basic_auth);
  EXPECT_EQ(loaded.Summary(), "TLS (no client certificates), 1 basic auth user, 1 header");

  // Without a web config file the server section is the main config's alone.
  auto plain = LoadConfigAndWebConfig((dir_ / "config.yaml").string(), "");
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->server.tls);
  EXPECT_TRUE(plain->server.basic_auth_users.empty());
}

TEST_F(WebConfigFileTest, TheMainConfigMayNotSetWhatTheWebConfigSupplies) {
  const std::string web = Write("web.yml", "");
  const std::string password = Write("password", std::string(kHashA) + "\n");
  const std::string config =
      Write("config.yaml",
            "api:\n  base_url: http://127.0.0.1:1\nserver:\n"
            "  tls: { cert_file: " +
                (dir_ / "cert.pem").string() + ", key_file: " + (dir_ / "key.pem").string() +
                " }\n  basic_auth: { username: prom, password_file: " + password + " }\n");
  auto both = LoadConfigAndWebConfig(config, web);
  ASSERT_FALSE(both.has_value());
  EXPECT_EQ(Text(both.error()),
            config + ": server.tls: is set here and --web.config.file " + web +
                " is given: the web config file supplies the server's TLS and basic auth; remove "
                "server.tls and use tls_server_config there\n" +
                config + ": server.basic_auth: is set here and --web.config.file " + web +
                " is given: the web config file supplies the server's TLS and basic auth; remove "
                "server.basic_auth and use basic_auth_users there\n");
  // The same main config without a web config file is valid.
  EXPECT_TRUE(LoadConfigAndWebConfig(config, "").has_value());
}

TEST_F(WebConfigFileTest, AnInvalidMainConfigIsReportedFirst) {
  const std::string config = Write("config.yaml", "api: {}\n");
  const std::string web = Write("web.yml", "bogus: 1\n");
  auto result = LoadConfigAndWebConfig(config, web);
  ASSERT_FALSE(result.has_value());
  EXPECT_NE(Text(result.error()).find(config + ":1:"), std::string::npos) << Text(result.error());
  EXPECT_EQ(Text(result.error()).find("bogus"), std::string::npos);
}

}  // namespace
}  // namespace hdm
