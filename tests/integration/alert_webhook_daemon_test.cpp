// Issue #15 through the whole daemon: POST /api/v1/alerts on a real Daemon (state file in a
// temporary directory) against the fake Hotdata API. Alertmanager and Grafana notifications from
// tests/testdata/webhook/ (connections conn_pg/prod-pg, conn_my/prod-mysql, conn_sf/analytics-sf
// of the harness's default workspace) purge once per alert episode, across repeats and a restart;
// a resolved alert that fires again past the cooldown purges once more; alerts naming no
// monitored connection are audited as ignored; malformed notifications are refused.
//
// "Nothing more was purged" is never judged after a sleep: the notifications that must purge
// nothing are answered only once the engine has taken them (OnAlerts runs inside the request),
// and their answer says started 0; then a sentinel alert for conn_sf is posted and its purge
// awaited. The policy thread performs the purges of a pass in the order of the alert episodes
// (policy, fingerprint), and the sentinel's fingerprint "ffffffffffffffff" sorts after every
// other one: any purge a repeat could have caused is sent before the sentinel's.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/time_format.h"
#include "integration/harness.h"

namespace hdm::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kPgCache[] = "/v1/connections/conn_pg/cache";
constexpr char kMyCache[] = "/v1/connections/conn_my/cache";
constexpr char kSfCache[] = "/v1/connections/conn_sf/cache";
constexpr char kPolicyName[] = "purge-on-latency";

// The alert policy of these tests; `cooldown` varies.
std::string AlertPolicy(const std::string& cooldown, const std::string& match = "") {
  return std::string("policies:\n  - name: ") + kPolicyName + "\n" + match +
         "    when:\n"
         "      event: alert\n"
         "      alertname: [HotdataQueryLatencyHigh, OrdersApiErrorRateHigh, HotdataSentinel]\n"
         "      labels: { severity: critical }\n"
         "    action: { purge: connection }\n"
         "    cooldown: " +
         cooldown + "\n";
}

std::string Testdata(const std::string& name) {
  std::ifstream in(std::string(HDM_TESTDATA_DIR) + "/webhook/" + name);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A firing Alertmanager notification of one alert for `connection_id`.
std::string OneAlert(const std::string& alertname, const std::string& connection_id,
                     const std::string& fingerprint,
                     const std::string& starts_at = "2025-03-04T12:00:00Z") {
  const json alert = {
      {"status", "firing"},
      {"labels",
       {{"alertname", alertname}, {"connection_id", connection_id}, {"severity", "critical"}}},
      {"annotations", {{"summary", alertname + " on " + connection_id}}},
      {"startsAt", starts_at},
      {"endsAt", "0001-01-01T00:00:00Z"},
      {"fingerprint", fingerprint}};
  return json{{"version", "4"},
              {"receiver", "hotdata-monitor"},
              {"status", "firing"},
              {"alerts", json::array({alert})}}
      .dump();
}

// The real clocks plus an offset that moves both at once: Advance() lets time pass for the
// daemon (a cooldown runs out) without a wall-clock step (which would move the cooldown with it).
class AdvancingClock final : public Clock {
 public:
  SysTime Now() const override {
    return SysClock::now() + std::chrono::duration_cast<SysTime::duration>(Offset());
  }
  MonoTime Mono() const override {
    return MonoClock::now() + std::chrono::duration_cast<MonoTime::duration>(Offset());
  }
  void Advance(std::chrono::nanoseconds d) { offset_ns_.fetch_add(d.count()); }

 private:
  std::chrono::nanoseconds Offset() const { return std::chrono::nanoseconds(offset_ns_.load()); }
  std::atomic<int64_t> offset_ns_{0};
};

struct PostReply {
  int status = -1;
  std::string body;
  std::string retry_after;
  json Json() const {
    json j = json::parse(body, nullptr, false);
    return j.is_object() ? j : json::object();
  }
};

class AlertWebhookDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AddDefaultConnections(fake_);
    ASSERT_GT(fake_.Start(), 0);
    token_file_ = dir_.Write("token", std::string(kToken) + "\n");
  }
  void TearDown() override {
    StopDaemon();
    fake_.Stop();
  }

  // Writes the config (TestConfig with `extra`; the state file is dir_/state.json) and starts a
  // daemon on it.
  void StartDaemon(const std::string& extra) {
    config_path_ = dir_.Write("config.yaml", TestConfig(fake_.base_url(), token_file_, extra));
    StartDaemonAgain();
  }
  // A new daemon on the same config and state file.
  void StartDaemonAgain() {
    auto d = Daemon::Create({.config_path = config_path_, .clock = &clock_});
    ASSERT_TRUE(d.has_value()) << d.error();
    daemon_ = std::move(*d);
    auto port = daemon_->Start();
    ASSERT_TRUE(port.has_value()) << port.error();
    port_ = *port;
  }
  void StopDaemon() {
    if (daemon_) daemon_->Stop();
    daemon_.reset();
  }

  PostReply Post(const std::string& body, const std::string& path = "/api/v1/alerts") {
    httplib::Client cli("127.0.0.1", port_);
    cli.set_keep_alive(false);
    cli.set_read_timeout(5, 0);
    auto res = cli.Post(path, body, "application/json");
    if (!res) return {};
    return {res->status, res->body, res->get_header_value("Retry-After")};
  }
  // Posts `body` until it is no longer refused as "not ready" (a 503 records nothing): the
  // daemon's policy engine has had its first discovery. Returns the first other answer.
  PostReply PostWhenReady(const std::string& body) {
    PostReply r;
    EXPECT_TRUE(WaitFor([&] {
      r = Post(body);
      return r.status != 503 && r.status != -1;
    })) << r.status
        << " " << r.body;
    return r;
  }
  int Get(const std::string& path, std::string* body = nullptr) {
    httplib::Client cli("127.0.0.1", port_);
    cli.set_keep_alive(false);
    cli.set_read_timeout(5, 0);
    auto res = cli.Get(path);
    if (!res) return -1;
    if (body != nullptr) *body = res->body;
    return res->status;
  }
  std::string Metrics() {
    std::string m;
    Get("/metrics", &m);
    return m;
  }
  double Requests(const std::string& result) {
    return SeriesValue(Metrics(), "hotdata_webhook_requests_total{result=\"" + result + "\"}")
        .value_or(-1);
  }
  // /api/v1/actions' entries, newest first.
  json Actions() {
    std::string body;
    EXPECT_EQ(Get("/api/v1/actions", &body), 200);
    const json j = json::parse(body, nullptr, false);
    return j.is_object() && j.contains("actions") ? j["actions"] : json::array();
  }
  // Entries of `outcome` for `connection_id`.
  std::vector<json> Entries(const std::string& outcome, const std::string& connection_id = "") {
    std::vector<json> out;
    for (const json& e : Actions()) {
      if (e.value("outcome", "") != outcome) continue;
      if (!connection_id.empty() && e.value("connection_id", "") != connection_id) continue;
      out.push_back(e);
    }
    return out;
  }
  size_t Deletes(const std::string& path) const { return fake_.CountRequests("DELETE", path); }
  size_t AllDeletes() const {
    size_t n = 0;
    for (const auto& r : fake_.Requests()) n += r.method == "DELETE" ? 1 : 0;
    return n;
  }
  // The barrier (see the top of the file): a new alert for conn_sf whose fingerprint sorts last;
  // true once its purge (the `n`th of conn_sf) reached the fake.
  bool Sentinel(size_t n = 1, const std::string& starts_at = "2025-03-04T12:00:00Z") {
    const PostReply r =
        PostWhenReady(OneAlert("HotdataSentinel", "conn_sf", "ffffffffffffffff", starts_at));
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Json().value("started", -1), 1) << r.body;
    // The fake API sees the DELETE before the daemon audits its answer: wait for both.
    const std::string trigger = "alert HotdataSentinel firing since " + starts_at;
    return WaitFor([&] {
      if (Deletes(kSfCache) < n) return false;
      for (const json& e : Entries("success", "conn_sf"))
        if (e.value("trigger", "").starts_with(trigger)) return true;
      return false;
    });
  }
  // The summary of an accepted notification.
  static void ExpectSummary(const PostReply& r, int started, int repeated, int ended,
                            int ignored = 0, int unmatched = 0) {
    ASSERT_EQ(r.status, 200) << r.body;
    const json j = r.Json();
    EXPECT_EQ(j.value("status", ""), "ok") << r.body;
    EXPECT_EQ(j.value("started", -1), started) << r.body;
    EXPECT_EQ(j.value("repeated", -1), repeated) << r.body;
    EXPECT_EQ(j.value("ended", -1), ended) << r.body;
    EXPECT_EQ(j.value("ignored", -1), ignored) << r.body;
    EXPECT_EQ(j.value("unmatched", -1), unmatched) << r.body;
  }

  AdvancingClock clock_;  // outlives the daemon
  TempDir dir_;
  fake::FakeHotdataServer fake_;
  std::string token_file_;
  std::string config_path_;
  std::unique_ptr<Daemon> daemon_;
  int port_ = 0;
};

// (a) Until the first discovery the connections that alerts name are unknown: 503 with
// Retry-After, nothing recorded; the same notification is taken once discovery works.
TEST_F(AlertWebhookDaemonTest, BeforeTheFirstDiscoveryANotificationGets503WithRetryAfter) {
  fake_.Script("GET", "/v1/connections", {.status = 503, .body = R"({"error":"unavailable"})"});
  StartDaemon(AlertPolicy("0s"));
  const std::string firing = Testdata("alertmanager_v4_firing.json");
  const PostReply r = Post(firing);
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.retry_after, "5");
  EXPECT_TRUE(r.body.starts_with("not ready: no discovery yet")) << r.body;
  EXPECT_EQ(r.body.find('\n'), r.body.size() - 1) << "one line: " << r.body;
  EXPECT_EQ(Requests("unavailable"), 1);
  EXPECT_EQ(Get("/readyz"), 503);

  fake_.ClearScripts();
  ASSERT_TRUE(WaitFor([&] { return Get("/readyz") == 200; }));
  ExpectSummary(PostWhenReady(firing), 2, 0, 0);
  ASSERT_TRUE(WaitFor([&] { return Deletes(kPgCache) == 1 && Deletes(kMyCache) == 1; }));
  EXPECT_TRUE(Entries("ignored").empty());
}

// (b) One purge per connection per episode; repeats of the notification purge nothing more.
TEST_F(AlertWebhookDaemonTest, AFiringNotificationPurgesEachConnectionOnceAndRepeatsNothing) {
  StartDaemon(AlertPolicy("0s"));  // no cooldown: a second episode would purge again
  const std::string firing = Testdata("alertmanager_v4_firing.json");
  ExpectSummary(PostWhenReady(firing), 2, 0, 0);
  ASSERT_TRUE(WaitFor([&] { return Deletes(kPgCache) == 1 && Deletes(kMyCache) == 1; }));

  for (int i = 0; i < 3; ++i) ExpectSummary(Post(firing), 0, 2, 0);
  // After repeat_interval Alertmanager sends newer annotations: the same episodes.
  ExpectSummary(Post(Testdata("alertmanager_v4_repeat.json")), 0, 2, 0);
  ASSERT_TRUE(Sentinel());
  EXPECT_EQ(Deletes(kPgCache), 1u);
  EXPECT_EQ(Deletes(kMyCache), 1u);
  EXPECT_EQ(AllDeletes(), 3u);

  // The audit names the alert: its name, since when it fires, its summary.
  ASSERT_TRUE(WaitFor([&] { return Entries("success").size() == 3; }));
  const auto pg = Entries("success", "conn_pg");
  ASSERT_EQ(pg.size(), 1u);
  EXPECT_EQ(pg[0].value("policy", ""), kPolicyName);
  EXPECT_EQ(pg[0].value("action", ""), "purge_connection");
  EXPECT_EQ(pg[0].value("trigger", ""),
            "alert HotdataQueryLatencyHigh firing since 2025-03-04T09:12:41Z: Queries through "
            "prod-pg take 2.7s");
  const auto my = Entries("success", "conn_my");
  ASSERT_EQ(my.size(), 1u);
  EXPECT_EQ(my[0].value("connection", ""), "prod-mysql");  // found by its name label
  EXPECT_EQ(my[0].value("trigger", ""),
            "alert HotdataQueryLatencyHigh firing since 2025-03-04T09:13:26Z: p95 of queries on "
            "shop.orders through prod-mysql is 3.1s");

  const std::string m = Metrics();
  EXPECT_EQ(SeriesValue(m, "hotdata_webhook_requests_total{result=\"ok\"}"), 6);
  EXPECT_EQ(SeriesValue(m, "hotdata_webhook_requests_total{result=\"bad_request\"}"), 0);
  EXPECT_EQ(SeriesValue(m, "hotdata_webhook_alerts_total{status=\"firing\"}"), 11);
  EXPECT_EQ(SeriesValue(m, "hotdata_webhook_alerts_total{status=\"resolved\"}"), 0);
  EXPECT_EQ(SeriesValue(m,
                        "hotdata_policy_actions_total{policy=\"purge-on-latency\",action=\"purge_"
                        "connection\",result=\"success\"}"),
            3);
}

// (c) Episodes are in the state file: the next repeat after a restart purges nothing.
TEST_F(AlertWebhookDaemonTest, ARestartedDaemonTakesTheNextRepeatForWhatItIs) {
  StartDaemon(AlertPolicy("0s"));
  const std::string firing = Testdata("alertmanager_v4_firing.json");
  ExpectSummary(PostWhenReady(firing), 2, 0, 0);
  ASSERT_TRUE(WaitFor([&] { return Deletes(kPgCache) == 1 && Deletes(kMyCache) == 1; }));
  // Both answered and audited before the stop (a stop cuts an unanswered purge off: unknown).
  ASSERT_TRUE(WaitFor([&] { return Entries("success").size() == 2; }));

  StopDaemon();
  StartDaemonAgain();
  ASSERT_TRUE(WaitFor([&] { return Get("/readyz") == 200; }));
  ExpectSummary(PostWhenReady(firing), 0, 2, 0);
  ASSERT_TRUE(Sentinel());
  EXPECT_EQ(Deletes(kPgCache), 1u);
  EXPECT_EQ(Deletes(kMyCache), 1u);
  // The audit came back from the state file too: the purges of before the restart, once each.
  ASSERT_TRUE(WaitFor([&] { return Entries("success", "conn_sf").size() == 1; }));
  EXPECT_EQ(Entries("success", "conn_pg").size(), 1u);
  EXPECT_EQ(Entries("success", "conn_my").size(), 1u);
}

// (d) Resolved ends the episode; the alert firing again (a new startsAt) past the cooldown is a
// new episode: one more purge.
TEST_F(AlertWebhookDaemonTest, AResolvedAlertThatFiresAgainPastTheCooldownPurgesOnceMore) {
  StartDaemon(AlertPolicy("10m"));
  ExpectSummary(PostWhenReady(Testdata("alertmanager_v4_firing.json")), 2, 0, 0);
  ASSERT_TRUE(WaitFor([&] { return Deletes(kPgCache) == 1 && Deletes(kMyCache) == 1; }));
  ExpectSummary(Post(Testdata("alertmanager_v4_resolved.json")), 0, 0, 2);
  // A late copy of the resolved notification ends nothing more.
  ExpectSummary(Post(Testdata("alertmanager_v4_resolved.json")), 0, 2, 0);

  clock_.Advance(11min);  // past the 10m cooldown, for the daemon
  ExpectSummary(Post(Testdata("alertmanager_v4_refire.json")), 1, 0, 0);
  ASSERT_TRUE(WaitFor([&] { return Deletes(kPgCache) == 2; }));
  ExpectSummary(Post(Testdata("alertmanager_v4_refire.json")), 0, 1, 0);
  ASSERT_TRUE(Sentinel());
  EXPECT_EQ(Deletes(kPgCache), 2u);
  EXPECT_EQ(Deletes(kMyCache), 1u);
  ASSERT_TRUE(WaitFor([&] { return Entries("success", "conn_sf").size() == 1; }));
  const auto pg = Entries("success", "conn_pg");  // newest first
  ASSERT_EQ(pg.size(), 2u);
  EXPECT_EQ(pg[0].value("trigger", ""),
            "alert HotdataQueryLatencyHigh firing since 2025-03-04T09:47:11Z: Queries through "
            "prod-pg take 3.6s");
  EXPECT_TRUE(Entries("suppressed").empty());
}

// (d') The same refire inside the cooldown is a new episode too, but the cooldown holds it.
TEST_F(AlertWebhookDaemonTest, AnAlertThatFiresAgainInsideTheCooldownIsHeldBack) {
  StartDaemon(AlertPolicy("10m"));
  ExpectSummary(PostWhenReady(Testdata("alertmanager_v4_firing.json")), 2, 0, 0);
  ASSERT_TRUE(WaitFor([&] { return Deletes(kPgCache) == 1 && Deletes(kMyCache) == 1; }));
  ExpectSummary(Post(Testdata("alertmanager_v4_resolved.json")), 0, 0, 2);
  ExpectSummary(Post(Testdata("alertmanager_v4_refire.json")), 1, 0, 0);
  ASSERT_TRUE(WaitFor([&] {
    return SeriesValue(Metrics(),
                       "hotdata_policy_suppressed_total{policy=\"purge-on-latency\",reason="
                       "\"cooldown\"}")
               .value_or(0) == 1;
  }));
  const auto held = Entries("suppressed", "conn_pg");
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].value("reason", ""), "cooldown");
  EXPECT_NE(held[0].value("trigger", "").find("firing since 2025-03-04T09:47:11Z"),
            std::string::npos);
  EXPECT_EQ(Deletes(kPgCache), 1u);
}

// (e) Alerts that a policy takes but that name no monitored connection: audited as ignored,
// each with its reason, once per episode.
TEST_F(AlertWebhookDaemonTest, AnAlertNamingNoMonitoredConnectionIsAuditedOnceAsIgnored) {
  StartDaemon(AlertPolicy("0s", "    match: { source_type: [postgres, mysql] }\n"));
  const std::string unknown = Testdata("alertmanager_v4_unknown_connection.json");
  ExpectSummary(PostWhenReady(unknown), 2, 0, 0, 2);
  // conn_sf exists but is snowflake: outside the policy's match.
  const std::string outside = OneAlert("HotdataQueryLatencyHigh", "conn_sf", "0123456789abcdef");
  ExpectSummary(Post(outside), 1, 0, 0, 1);

  auto ignored = Entries("ignored");
  ASSERT_EQ(ignored.size(), 3u) << Actions().dump();
  std::vector<std::string> details;
  for (const json& e : ignored) {
    EXPECT_EQ(e.value("policy", ""), kPolicyName);
    EXPECT_TRUE(e.value("trigger", "").starts_with("alert ")) << e.dump();
    details.push_back(e.value("detail", ""));
  }
  EXPECT_THAT(details, ::testing::UnorderedElementsAre(
                           "connection_id \"conn_gone\" is not a monitored connection",
                           "the alert has neither a connection_id nor a connection label",
                           ::testing::HasSubstr("is not one this policy's match selects")));
  for (const json& e : ignored) {
    if (e.value("detail", "").starts_with("connection_id")) {
      EXPECT_EQ(e.value("trigger", ""),
                "alert HotdataQueryLatencyHigh firing since 2025-03-04T09:12:41Z: Queries "
                "through retired-pg take 4.2s");
    }
    if (e.value("detail", "").starts_with("the alert has")) {
      EXPECT_EQ(e.value("trigger", ""),
                "alert OrdersApiErrorRateHigh firing since 2025-03-04T09:20:03Z: orders-api "
                "answers 12% 5xx");
    }
    if (e.value("detail", "").find("match") != std::string::npos) {
      EXPECT_EQ(e.value("connection_id", ""), "conn_sf");
    }
  }

  // Repeats are the same episodes: no second entry, nothing sent.
  ExpectSummary(Post(unknown), 0, 2, 0);
  ExpectSummary(Post(unknown), 0, 2, 0);
  ExpectSummary(Post(outside), 0, 1, 0);
  // A sentinel the policy takes (conn_pg is postgres): once it is purged and audited, the passes
  // that saw the repeats are over.
  ExpectSummary(Post(OneAlert("HotdataQueryLatencyHigh", "conn_pg", "1111111111111111")), 1, 0, 0);
  ASSERT_TRUE(WaitFor([&] { return Entries("success", "conn_pg").size() == 1; }));
  EXPECT_EQ(Entries("ignored").size(), 3u);
  EXPECT_EQ(Actions().size(), 4u);
  EXPECT_EQ(AllDeletes(), 1u);
}

// (f) Grafana's webhook contact point (version "1").
TEST_F(AlertWebhookDaemonTest, AGrafanaContactPointNotificationPurgesOnce) {
  StartDaemon(AlertPolicy("0s"));
  const std::string firing = Testdata("grafana_contact_point_firing.json");
  ExpectSummary(PostWhenReady(firing), 1, 0, 0);
  ASSERT_TRUE(WaitFor([&] { return Deletes(kPgCache) == 1; }));
  ExpectSummary(Post(firing), 0, 1, 0);
  ExpectSummary(Post(Testdata("grafana_contact_point_resolved.json")), 0, 0, 1);
  ASSERT_TRUE(Sentinel());
  EXPECT_EQ(Deletes(kPgCache), 1u);
  EXPECT_EQ(AllDeletes(), 2u);
  ASSERT_TRUE(WaitFor([&] { return Entries("success", "conn_pg").size() == 1; }));
  const auto pg = Entries("success", "conn_pg");
  ASSERT_EQ(pg.size(), 1u);
  EXPECT_EQ(pg[0].value("trigger", ""),
            "alert HotdataQueryLatencyHigh firing since 2025-03-04T09:14:00Z: Queries through "
            "prod-pg take 2.734s");
}

// (g) A body that is not a notification: 400 with a one-line reason, counted, nothing decided.
TEST_F(AlertWebhookDaemonTest, MalformedNotificationsGet400AndDecideNothing) {
  StartDaemon(AlertPolicy("0s"));
  // Ready first, so that every answer below is the decoder's (not the 503 of before discovery).
  ASSERT_TRUE(Sentinel());

  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(HDM_TESTDATA_DIR) + "/webhook")) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("bad_") && name.ends_with(".json")) files.push_back(name);
  }
  ASSERT_GE(files.size(), 9u);
  for (const std::string& name : files) {
    SCOPED_TRACE(name);
    const PostReply r = Post(Testdata(name));
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_TRUE(r.body.starts_with("bad notification: ")) << r.body;
    ASSERT_FALSE(r.body.empty());
    EXPECT_EQ(r.body.find('\n'), r.body.size() - 1) << "one line: " << r.body;
  }
  // Not even JSON at all, and an empty body.
  EXPECT_EQ(Post("alertname=HotdataQueryLatencyHigh").status, 400);
  EXPECT_EQ(Post("").status, 400);

  const std::string m = Metrics();
  EXPECT_EQ(SeriesValue(m, "hotdata_webhook_requests_total{result=\"bad_request\"}"),
            static_cast<double>(files.size() + 2));
  EXPECT_EQ(SeriesValue(m, "hotdata_webhook_requests_total{result=\"ok\"}"), 1);
  EXPECT_EQ(SeriesValue(m, "hotdata_webhook_alerts_total{status=\"firing\"}"), 1);  // sentinel
  // Nothing of them reached the engine: a second sentinel (a new episode) is the only purge.
  ASSERT_TRUE(Sentinel(2, "2025-03-04T13:00:00Z"));
  EXPECT_EQ(AllDeletes(), 2u);
  EXPECT_EQ(Actions().size(), 2u);
}

// A table purge without a tables: list takes the alert's schema and table labels; an alert
// without them is ignored, with that reason.
TEST_F(AlertWebhookDaemonTest, ATablePurgeTakesTheAlertsSchemaAndTableLabels) {
  fake_.Upsert({.id = "conn_my",
                .name = "prod-mysql",
                .source_type = "mysql",
                .table_count = 3,
                .synced_table_count = 3,
                .tables = {{.schema = "shop", .table = "orders", .row_count = 5}}});
  StartDaemon(R"(policies:
  - name: purge-table
    when: { event: alert, alertname: [HotdataQueryLatencyHigh] }
    action: { purge: table }
  - name: zz-sentinel
    when: { event: alert, alertname: [HotdataSentinel] }
    action: { purge: connection }
)");
  const std::string firing = Testdata("alertmanager_v4_firing.json");
  // conn_pg's alert has no schema/table labels: ignored; prod-mysql's names shop.orders.
  ExpectSummary(PostWhenReady(firing), 2, 0, 0, 1);
  const std::string table = "/v1/connections/conn_my/tables/shop/orders/cache";
  ASSERT_TRUE(WaitFor([&] { return Deletes(table) == 1; }));
  ExpectSummary(Post(firing), 0, 2, 0);
  ASSERT_TRUE(Sentinel());
  EXPECT_EQ(Deletes(table), 1u);
  EXPECT_EQ(AllDeletes(), 2u);

  ASSERT_TRUE(WaitFor([&] { return Entries("success", "conn_my").size() == 1; }));
  const json done = Entries("success", "conn_my")[0];
  EXPECT_EQ(done.value("action", ""), "purge_table");
  EXPECT_EQ(done.value("schema", ""), "shop");
  EXPECT_EQ(done.value("table", ""), "orders");
  const auto ignored = Entries("ignored");
  ASSERT_EQ(ignored.size(), 1u);
  EXPECT_EQ(ignored[0].value("connection_id", ""), "conn_pg");
  EXPECT_EQ(ignored[0].value("detail", ""),
            "purge: table needs the alert's schema and table labels, or a tables: list");
}

// `for` holds the purge until the alert has been firing that long since its startsAt; it then
// goes out without another notification.
TEST_F(AlertWebhookDaemonTest, ForHoldsThePurgeUntilTheAlertHasFiredThatLong) {
  StartDaemon(R"(policies:
  - name: purge-on-latency
    when: { event: alert, alertname: [HotdataQueryLatencyHigh], for: 10m }
    action: { purge: connection }
  - name: zz-sentinel
    when: { event: alert, alertname: [HotdataSentinel] }
    action: { purge: connection }
)");
  const std::string since = FormatRfc3339(clock_.Now());  // starts firing now, for the daemon
  ExpectSummary(
      PostWhenReady(OneAlert("HotdataQueryLatencyHigh", "conn_pg", "0123456789abcdef", since)), 1,
      0, 0);
  ASSERT_TRUE(Sentinel());  // a pass evaluated it: not yet
  EXPECT_EQ(Deletes(kPgCache), 0u);

  clock_.Advance(11min);
  ASSERT_TRUE(WaitFor([&] { return Deletes(kPgCache) == 1; }));
  ASSERT_TRUE(WaitFor([&] { return Entries("success", "conn_pg").size() == 1; }));
  EXPECT_EQ(Entries("success", "conn_pg")[0].value("trigger", ""),
            "alert HotdataQueryLatencyHigh firing since " + since +
                ": HotdataQueryLatencyHigh on conn_pg");
}

// (h) Without an alert policy the path does not exist; a reload that adds one opens it (and one
// that removes it closes it again).
TEST_F(AlertWebhookDaemonTest, WithoutAnAlertPolicyThePathIs404UntilAReloadAddsOne) {
  const std::string no_alerts = R"(policies:
  - name: after-outage
    when: { event: recovered, after_failures: 2 }
    action: { purge: connection }
)";
  StartDaemon(no_alerts);
  ASSERT_TRUE(WaitFor([&] { return Get("/readyz") == 200; }));
  const std::string firing = Testdata("alertmanager_v4_firing.json");
  EXPECT_EQ(Post(firing).status, 404);
  EXPECT_EQ(Get("/api/v1/alerts"), 404);
  EXPECT_EQ(Requests("ok") + Requests("unavailable"), 0);

  dir_.Write("config.yaml", TestConfig(fake_.base_url(), token_file_, AlertPolicy("0s")));
  ASSERT_TRUE(daemon_->Reload().has_value());
  ExpectSummary(PostWhenReady(firing), 2, 0, 0);
  EXPECT_EQ(Get("/api/v1/alerts"), 405);
  ASSERT_TRUE(WaitFor([&] { return Deletes(kPgCache) == 1 && Deletes(kMyCache) == 1; }));

  dir_.Write("config.yaml", TestConfig(fake_.base_url(), token_file_, no_alerts));
  ASSERT_TRUE(daemon_->Reload().has_value());
  EXPECT_EQ(Post(firing).status, 404);
}

}  // namespace
}  // namespace hdm::testing
