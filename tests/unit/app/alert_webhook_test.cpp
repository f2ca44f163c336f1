// The alert webhook's glue in the daemon (issue #15): when the route exists (HasAlertPolicy), when
// it is open to anyone who can reach the port (AlertWebhookExposure, printed by --check-config),
// and the receiver MakeAlertReceiver builds, counted in a real Metrics.
#include "app/alert_webhook.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "app/commands.h"
#include "metrics/metrics.h"
#include "policy/policy_service.h"
#include "unit/http/bcrypt_hash.h"
#include "unit/policy/engine_fixture.h"
#include "unit/policy/purge_api.h"

namespace hdm {
namespace {

using policy::testing::ConfigFrom;
using policy::testing::Conn;

constexpr char kAlertPolicy[] = R"(
policies:
  - name: purge-on-latency
    when: { event: alert, alertname: [HotdataQueryLatencyHigh], labels: { severity: critical } }
    action: { purge: connection }
)";
constexpr char kOtherPolicy[] = R"(
policies:
  - name: after-outage
    when: { event: recovered, after_failures: 2 }
    action: { purge: connection }
)";

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(HDM_TESTDATA_DIR) + "/webhook/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The value of the sample whose name and labels are exactly `series`; nullopt when absent.
std::optional<double> SampleValue(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "hdm-alert-app-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) const {
    const std::filesystem::path p = path_ / name;
    std::ofstream(p) << content;
    return p.string();
  }

 private:
  std::filesystem::path path_;
};

TEST(AlertWebhookTest, HasAlertPolicyOnlyWhenAPolicyTakesAlerts) {
  EXPECT_TRUE(HasAlertPolicy(*ConfigFrom(kAlertPolicy)));
  EXPECT_FALSE(HasAlertPolicy(*ConfigFrom(kOtherPolicy)));
  EXPECT_FALSE(HasAlertPolicy(*ConfigFrom("")));
  EXPECT_TRUE(HasAlertPolicy(*ConfigFrom(std::string(kOtherPolicy) + R"(
  - name: second
    when: { event: alert, alertname: [A, B] }
    action: { purge: connection }
)")));
}

TEST(AlertWebhookTest, ExposureWarnsForANonLoopbackListenWithoutBasicAuth) {
  const Config config = *ConfigFrom(kAlertPolicy);
  // A host name that merely starts with "127." is no loopback address.
  for (const char* listen :
       {"0.0.0.0:9977", ":9977", "[::]:9977", "10.0.0.5:9977", "127.example.com:9977"}) {
    SCOPED_TRACE(listen);
    auto warning = AlertWebhookExposure(config, listen);
    ASSERT_TRUE(warning.has_value());
    EXPECT_TRUE(warning->starts_with("warning: ")) << *warning;
    EXPECT_NE(warning->find(listen), std::string::npos) << *warning;
    EXPECT_NE(warning->find("POST /api/v1/alerts"), std::string::npos) << *warning;
    EXPECT_NE(warning->find("server.basic_auth"), std::string::npos) << *warning;
    EXPECT_EQ(warning->find('\n'), std::string::npos) << "one line: " << *warning;
  }
}

TEST(AlertWebhookTest, ExposureIsSilentOnLoopbackWithBasicAuthOrWithoutAlertPolicies) {
  const Config config = *ConfigFrom(kAlertPolicy);
  for (const char* listen : {"127.0.0.1:9977", "127.0.0.2:9977", "[::1]:9977", "localhost:9977"}) {
    SCOPED_TRACE(listen);
    EXPECT_EQ(AlertWebhookExposure(config, listen), std::nullopt);
  }
  Config with_auth = config;
  with_auth.server.basic_auth = BasicAuthConfig{.username = "am", .password_file = "/x"};
  EXPECT_EQ(AlertWebhookExposure(with_auth, "0.0.0.0:9977"), std::nullopt);
  Config with_users = config;  // basic_auth_users of --web.config.file
  with_users.server.basic_auth_users = {{"am", "$2b$05$hash"}};
  EXPECT_EQ(AlertWebhookExposure(with_users, "0.0.0.0:9977"), std::nullopt);
  EXPECT_EQ(AlertWebhookExposure(*ConfigFrom(kOtherPolicy), "0.0.0.0:9977"), std::nullopt);
  EXPECT_EQ(AlertWebhookExposure(*ConfigFrom(""), "0.0.0.0:9977"), std::nullopt);
  // A required client certificate authenticates too; an optional one does not.
  Config with_mtls = config;
  with_mtls.server.tls =
      ServerTlsConfig{.cert_file = "c",
                      .key_file = "k",
                      .client_auth = ClientAuthType::kRequireAndVerifyClientCert};
  EXPECT_EQ(AlertWebhookExposure(with_mtls, "0.0.0.0:9977"), std::nullopt);
  with_mtls.server.tls->client_auth = ClientAuthType::kVerifyClientCertIfGiven;
  EXPECT_TRUE(AlertWebhookExposure(with_mtls, "0.0.0.0:9977").has_value());
  // A listen address that does not parse is reported elsewhere, not here.
  EXPECT_EQ(AlertWebhookExposure(config, "nope"), std::nullopt);
}

class AlertReceiverTest : public ::testing::Test {
 protected:
  AlertReceiverTest()
      : service_(clock_, ConfigFrom(kAlertPolicy), std::make_unique<policy::testing::PurgeApi>(),
                 policy::PolicyServiceOptions{}) {}

  std::string Render() const { return metrics_.Render(FleetSnapshot{}); }
  double Requests(const std::string& result) const {
    return SampleValue(Render(), "hotdata_webhook_requests_total{result=\"" + result + "\"}")
        .value_or(-1);
  }
  double Alerts(const std::string& status) const {
    return SampleValue(Render(), "hotdata_webhook_alerts_total{status=\"" + status + "\"}")
        .value_or(-1);
  }
  void Discover() {
    service_.OnDiscovery({Conn("conn_pg", "prod-pg"), Conn("conn_my", "prod-mysql", "mysql"),
                          Conn("conn_sf", "analytics-sf", "snowflake")},
                         clock_.Now());
  }

  FakeClock clock_{policy::testing::kT0};
  Metrics metrics_;
  policy::PolicyService service_;
};

TEST_F(AlertReceiverTest, EverySeriesExistsAtZeroFromTheStart) {
  auto receiver = MakeAlertReceiver(service_, metrics_);
  ASSERT_NE(receiver, nullptr);
  for (const char* result : {"ok", "bad_request", "too_large", "unavailable"}) {
    EXPECT_EQ(Requests(result), 0) << result;
  }
  EXPECT_EQ(Alerts("firing"), 0);
  EXPECT_EQ(Alerts("resolved"), 0);
  EXPECT_EQ(SampleValue(Render(), "hotdata_webhook_alerts_truncated_total"), 0);
}

TEST_F(AlertReceiverTest, CountsEveryRequestByResultAndTheAlertsOfTheAcceptedOnes) {
  auto receiver = MakeAlertReceiver(service_, metrics_);
  const std::string firing = ReadTestdata("alertmanager_v4_firing.json");

  // Before the first discovery: 503, nothing taken, the alerts not counted.
  webhook::Reply r = receiver->Handle(firing);
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(r.body.starts_with("not ready: no discovery yet")) << r.body;
  EXPECT_EQ(Requests("unavailable"), 1);
  EXPECT_EQ(Alerts("firing"), 0);

  r = receiver->Handle(ReadTestdata("bad_starts_at.json"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Requests("bad_request"), 1);

  r = receiver->TooLarge(2 * webhook::kMaxBodyBytes);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(Requests("too_large"), 1);
  // A body over the limit handed to Handle() (the server read it anyway) is too_large as well.
  r = receiver->Handle(std::string(webhook::kMaxBodyBytes + 1, ' '));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(Requests("too_large"), 2);

  Discover();
  r = receiver->Handle(firing);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["alerts"], 2);
  EXPECT_EQ(j["started"], 2);
  EXPECT_EQ(j["repeated"], 0);
  EXPECT_EQ(Requests("ok"), 1);
  EXPECT_EQ(Alerts("firing"), 2);
  EXPECT_EQ(Alerts("resolved"), 0);

  r = receiver->Handle(ReadTestdata("alertmanager_v4_mixed.json"));  // 1 resolved, 1 firing
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Requests("ok"), 2);
  EXPECT_EQ(Alerts("firing"), 3);
  EXPECT_EQ(Alerts("resolved"), 1);

  r = receiver->Handle(ReadTestdata("alertmanager_v4_truncated.json"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(SampleValue(Render(), "hotdata_webhook_alerts_truncated_total"), 2);

  // The other results did not move meanwhile.
  EXPECT_EQ(Requests("unavailable"), 1);
  EXPECT_EQ(Requests("bad_request"), 1);
  EXPECT_EQ(Requests("too_large"), 2);
}

TEST_F(AlertReceiverTest, TheSummaryCountsRepeatsUnmatchedAndIgnoredAlerts) {
  auto receiver = MakeAlertReceiver(service_, metrics_);
  Discover();
  ASSERT_EQ(receiver->Handle(ReadTestdata("alertmanager_v4_firing.json")).status, 200);
  auto j =
      nlohmann::json::parse(receiver->Handle(ReadTestdata("alertmanager_v4_repeat.json")).body);
  EXPECT_EQ(j["started"], 0);
  EXPECT_EQ(j["repeated"], 2);
  // conn_gone is taken by the policy but names no monitored connection (ignored); the other
  // alert's name is not the policy's (unmatched).
  j = nlohmann::json::parse(
      receiver->Handle(ReadTestdata("alertmanager_v4_unknown_connection.json")).body);
  EXPECT_EQ(j["ignored"], 1);
  EXPECT_EQ(j["unmatched"], 1);
  EXPECT_EQ(Alerts("firing"), 6);
}

// --check-config --offline prints the exposure warning and still exits 0 (a warning, not an
// error); in-process, as main() runs it.
class CheckConfigWarningTest : public ::testing::Test {
 protected:
  std::string Config(const std::string& listen, const std::string& policies,
                     const std::string& server_extra = "") {
    return dir_.Write("config.yaml",
                      "api:\n  base_url: http://127.0.0.1:1\n  workspace_id: ws\n"
                      "  token_file: " +
                          token_ + "\nserver:\n  listen: \"" + listen + "\"\n" + server_extra +
                          policies);
  }
  struct Run {
    int code = -1;
    std::string out;
    std::string err;
  };
  Run Check(const std::string& config, std::optional<std::string> listen = std::nullopt,
            const std::string& web_config = "") {
    CliOptions cli;
    cli.config_path = config;
    cli.check_config = true;
    cli.offline = true;
    cli.listen_address = std::move(listen);
    cli.web_config_file = web_config;
    std::ostringstream out, err;
    Run r;
    r.code = RunCheckConfig(cli, out, err);
    r.out = out.str();
    r.err = err.str();
    return r;
  }
  static bool Warns(const Run& r) {
    return r.out.find("warning: a policy takes alerts (event: alert)") != std::string::npos;
  }

  TempDir dir_;
  const std::string token_ = dir_.Write("token", "tok_123\n");
};

TEST_F(CheckConfigWarningTest, WarnsForAnAlertPolicyOnAnOpenAddressAndStillExitsZero) {
  const Run r = Check(Config("0.0.0.0:9977", kAlertPolicy));
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_TRUE(Warns(r)) << r.out;
  // One line of its own, naming the address; the rest of the report follows.
  EXPECT_NE(r.out.find("\nwarning: a policy takes alerts (event: alert), basic auth is off and "
                       "0.0.0.0:9977 is not a loopback address"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("API not asked: --offline\n"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST_F(CheckConfigWarningTest, SilentOnLoopbackWithBasicAuthOrWithoutAlertPolicies) {
  Run r = Check(Config("127.0.0.1:9977", kAlertPolicy));
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_FALSE(Warns(r)) << r.out;
  EXPECT_NE(r.out.find(": valid (1 policies)"), std::string::npos) << r.out;

  r = Check(Config("0.0.0.0:9977", kOtherPolicy));
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_FALSE(Warns(r)) << r.out;

  const std::string password = dir_.Write("password", testing::MakeBcryptHash("pw") + "\n");
  r = Check(Config("0.0.0.0:9977", kAlertPolicy,
                   "  basic_auth: { username: am, password_file: " + password + " }\n"));
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_FALSE(Warns(r)) << r.out;

  // basic_auth_users from --web.config.file count as basic auth too.
  const std::string web =
      dir_.Write("web.yml", "basic_auth_users:\n  am: " + testing::MakeBcryptHash("pw") + "\n");
  r = Check(Config("0.0.0.0:9977", kAlertPolicy), std::nullopt, web);
  EXPECT_EQ(r.code, kExitOk) << r.out << r.err;
  EXPECT_FALSE(Warns(r)) << r.out;
}

TEST_F(CheckConfigWarningTest, TheListenFlagWinsOverTheConfigsAddress) {
  Run r = Check(Config("0.0.0.0:9977", kAlertPolicy), "127.0.0.1:9977");
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_FALSE(Warns(r)) << r.out;
  r = Check(Config("127.0.0.1:9977", kAlertPolicy), ":9977");
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_TRUE(Warns(r)) << r.out;
  EXPECT_NE(r.out.find(":9977 is not a loopback address"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace hdm
