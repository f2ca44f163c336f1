// Decoding the webhook bodies of Alertmanager (version 4) and Grafana (version 1): the examples of
// tests/testdata/webhook/ (see its README for what each is and the expected outcome).
#include "webhook/payload.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/time_format.h"

namespace hdm::webhook {
namespace {

std::string Read(const std::string& name) {
  std::ifstream in(std::string(HDM_TESTDATA_DIR) + "/webhook/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Payload Decode(const std::string& name) {
  auto p = DecodePayload(Read(name));
  EXPECT_TRUE(p.has_value()) << name << ": " << p.error();
  return p.value_or(Payload{});
}

TEST(PayloadTest, AlertmanagerFiringGroup) {
  const Payload p = Decode("alertmanager_v4_firing.json");
  EXPECT_EQ(p.sender, Payload::Sender::kAlertmanager);
  EXPECT_EQ(p.receiver, "hotdata-monitor");
  EXPECT_EQ(p.truncated, 0);
  ASSERT_EQ(p.alerts.size(), 2u);
  const Alert& pg = p.alerts[0];
  EXPECT_EQ(pg.status, AlertStatus::kFiring);
  EXPECT_EQ(pg.Name(), "HotdataQueryLatencyHigh");
  EXPECT_EQ(*pg.Label("connection_id"), "conn_pg");
  EXPECT_EQ(pg.Label("table"), nullptr);
  EXPECT_EQ(*pg.Annotation("summary"), "Queries through prod-pg take 2.7s");
  EXPECT_EQ(pg.fingerprint, "52a4134bc940791a");
  // Nanoseconds are cut to the milliseconds the state file keeps.
  EXPECT_EQ(pg.starts_at, *ParseRfc3339("2025-03-04T09:12:41.118Z"));
  EXPECT_FALSE(pg.ends_at.has_value());  // "0001-01-01T00:00:00Z"
  const Alert& my = p.alerts[1];
  EXPECT_EQ(my.Label("connection_id"), nullptr);
  EXPECT_EQ(*my.Label("connection"), "prod-mysql");
  EXPECT_EQ(*my.Label("schema"), "shop");
  EXPECT_EQ(*my.Label("table"), "orders");
  // "+01:00" is an instant like any other.
  EXPECT_EQ(my.starts_at, *ParseRfc3339("2025-03-04T09:13:26.500Z"));
}

TEST(PayloadTest, RepeatsCarryTheSameIdentity) {
  const Payload first = Decode("alertmanager_v4_firing.json");
  const Payload repeat = Decode("alertmanager_v4_repeat.json");
  ASSERT_EQ(first.alerts.size(), repeat.alerts.size());
  for (size_t i = 0; i < first.alerts.size(); ++i) {
    EXPECT_EQ(first.alerts[i].fingerprint, repeat.alerts[i].fingerprint);
    EXPECT_EQ(first.alerts[i].starts_at, repeat.alerts[i].starts_at);
  }
  const Payload refire = Decode("alertmanager_v4_refire.json");
  ASSERT_EQ(refire.alerts.size(), 1u);
  EXPECT_EQ(refire.alerts[0].fingerprint, first.alerts[0].fingerprint);
  EXPECT_GT(refire.alerts[0].starts_at, first.alerts[0].starts_at);
}

TEST(PayloadTest, EachAlertHasItsOwnStatus) {
  const Payload mixed = Decode("alertmanager_v4_mixed.json");
  ASSERT_EQ(mixed.alerts.size(), 2u);
  EXPECT_EQ(mixed.alerts[0].status, AlertStatus::kResolved);
  EXPECT_TRUE(mixed.alerts[0].ends_at.has_value());
  EXPECT_EQ(mixed.alerts[1].status, AlertStatus::kFiring);
  const Payload resolved = Decode("alertmanager_v4_resolved.json");
  for (const Alert& a : resolved.alerts) EXPECT_EQ(a.status, AlertStatus::kResolved);
}

TEST(PayloadTest, TruncatedAlertsAreCounted) {
  const Payload p = Decode("alertmanager_v4_truncated.json");
  EXPECT_EQ(p.alerts.size(), 1u);
  EXPECT_EQ(p.truncated, 2);
}

TEST(PayloadTest, GrafanaContactPoint) {
  const Payload firing = Decode("grafana_contact_point_firing.json");
  EXPECT_EQ(firing.sender, Payload::Sender::kGrafana);
  ASSERT_EQ(firing.alerts.size(), 1u);
  const Alert& a = firing.alerts[0];
  EXPECT_EQ(a.status, AlertStatus::kFiring);
  EXPECT_EQ(a.Name(), "HotdataQueryLatencyHigh");
  EXPECT_EQ(*a.Label("connection_id"), "conn_pg");
  EXPECT_EQ(*a.Label("severity"), "critical");
  EXPECT_EQ(*a.Annotation("summary"), "Queries through prod-pg take 2.734s");
  // Grafana's fingerprint covers labels the payload leaves out: taken as given.
  EXPECT_EQ(a.fingerprint, "dfa79fda6d411181");
  EXPECT_EQ(a.starts_at, *ParseRfc3339("2025-03-04T09:14:00Z"));
  const Payload resolved = Decode("grafana_contact_point_resolved.json");
  ASSERT_EQ(resolved.alerts.size(), 1u);
  EXPECT_EQ(resolved.alerts[0].status, AlertStatus::kResolved);
  EXPECT_EQ(resolved.alerts[0].fingerprint, a.fingerprint);
  EXPECT_EQ(resolved.alerts[0].starts_at, a.starts_at);
}

TEST(PayloadTest, AlertmanagerFingerprintsAreTheLabelSetsFingerprints) {
  for (const char* name :
       {"alertmanager_v4_firing.json", "alertmanager_v4_unknown_connection.json"}) {
    for (const Alert& a : Decode(name).alerts) {
      EXPECT_EQ(LabelsFingerprint(a.labels), a.fingerprint) << name << " " << a.Name();
    }
  }
}

TEST(PayloadTest, AFingerprintMissingIsComputedFromTheLabels) {
  auto p = DecodePayload(R"({"version":"4","alerts":[{"status":"firing",
      "labels":{"alertname":"A","connection_id":"c1"},"startsAt":"2025-03-04T09:00:00Z"}]})");
  ASSERT_TRUE(p.has_value()) << p.error();
  EXPECT_EQ(p->alerts[0].fingerprint,
            LabelsFingerprint({{"alertname", "A"}, {"connection_id", "c1"}}));
  EXPECT_EQ(p->alerts[0].fingerprint.size(), 16u);
}

TEST(PayloadTest, BodiesThatAreNotNotificationsAreRefusedWithTheirReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bad_wrong_version.json",
       "version: expected \"4\" (Alertmanager) or \"1\" (Grafana), got \"3\""},
      {"bad_missing_version.json", "version"},
      {"bad_alerts_not_array.json", "alerts: expected array"},
      {"bad_missing_labels.json", "alerts[0].labels: missing"},
      {"bad_labels_not_strings.json", "expected a string"},
      {"bad_starts_at.json", "alerts[0].startsAt: not an RFC 3339 time"},
      {"bad_alert_status.json", "alerts[0].status: expected firing or resolved"},
      {"bad_not_json.json", "not valid JSON"},
      {"bad_top_level_array.json", "body: expected a webhook notification"},
  };
  for (const auto& [file, reason] : cases) {
    auto p = DecodePayload(Read(file));
    ASSERT_FALSE(p.has_value()) << file;
    EXPECT_NE(p.error().find(reason), std::string::npos) << file << ": " << p.error();
    EXPECT_EQ(p.error().find('\n'), std::string::npos) << file << ": one line";
  }
}

TEST(PayloadTest, OtherMalformedBodies) {
  for (
      const char* body : {
          "",
          "null",
          R"({"version":4,"alerts":[]})",
          R"({"version":"4"})",
          R"({"version":"4","alerts":[1]})",
          R"({"version":"4","alerts":[{"status":"firing","labels":{"x":"y"},"startsAt":"2025-03-04T09:00:00Z"}]})",
          R"({"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"}}]})",
          R"({"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"0001-01-01T00:00:00Z"}]})",
          R"({"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"annotations":[],"startsAt":"2025-03-04T09:00:00Z"}]})",
          R"({"version":"4","alerts":[],"truncatedAlerts":-1})",
      }) {
    EXPECT_FALSE(DecodePayload(body).has_value()) << body;
  }
  EXPECT_FALSE(DecodePayload(std::string(100'000, '[')).has_value());
}

TEST(PayloadTest, AnEmptyGroupAndNullsAreFine) {
  auto p = DecodePayload(R"({"version":"4","alerts":[],"truncatedAlerts":null,"receiver":null})");
  ASSERT_TRUE(p.has_value()) << p.error();
  EXPECT_TRUE(p->alerts.empty());
}

}  // namespace
}  // namespace hdm::webhook
