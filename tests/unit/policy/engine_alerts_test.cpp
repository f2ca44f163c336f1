// The alert event: once per alert episode (fingerprint, startsAt), repeats decide nothing,
// resolved ends an episode, `for` from startsAt, ignored alerts reported once, episodes surviving
// a restart (through the state file's JSON) and a change of the policy.
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "engine_fixture.h"
#include "policy/policy_state.h"

namespace hdm::policy::testing {
namespace {

constexpr char kPolicy[] = R"(
safety: { pause_min_connections: 10 }
policies:
  - name: slow
    when: { event: alert, alertname: [QueryLatencyHigh, QueryErrors], labels: { severity: critical } }
    action: { purge: connection }
    cooldown: 30m
)";

webhook::Alert MakeAlert(const std::string& fingerprint, SysTime starts_at,
                         std::map<std::string, std::string> labels,
                         webhook::AlertStatus status = webhook::AlertStatus::kFiring) {
  labels.try_emplace("alertname", "QueryLatencyHigh");
  labels.try_emplace("severity", "critical");
  return webhook::Alert{.status = status,
                        .labels = std::move(labels),
                        .annotations = {{"summary", "queries are slow"}},
                        .starts_at = starts_at,
                        .fingerprint = fingerprint};
}

webhook::Alert Resolved(webhook::Alert a) {
  a.status = webhook::AlertStatus::kResolved;
  return a;
}

class AlertEngineTest : public EngineTest {
 protected:
  AlertsReport Notify(std::vector<webhook::Alert> alerts) { return engine_->OnAlerts(alerts, t); }
  void RestartThroughJson(const std::string& yaml = "") {
    const nlohmann::json j = PolicyStateToJson(engine_->Export());
    auto state = PolicyStateFromJson(nlohmann::json::parse(j.dump()));
    ASSERT_TRUE(state.has_value()) << state.error();
    ASSERT_EQ(*state, engine_->Export());
    if (!yaml.empty()) config_ = ConfigFrom(yaml);
    engine_ = std::make_unique<PolicyEngine>(config_, std::move(*state));
    engine_->OnDiscovery(fleet_, t);
  }
  const SysTime since = kT0 - 5min;
};

TEST_F(AlertEngineTest, FiresOncePerEpisodeAndNotOnRepeats) {
  Start(kPolicy);
  const auto a = MakeAlert("fp1", since, {{"connection_id", "c1"}});
  AlertsReport r = Notify({a});
  EXPECT_EQ(r.started, 1);
  EXPECT_EQ(Eval(), Strings{"slow c1 perform"});
  EXPECT_EQ(last_[0].trigger,
            "alert QueryLatencyHigh firing since 2023-11-14T22:08:20Z: queries are slow");
  for (int i = 0; i < 3; ++i) {  // Alertmanager's repeat_interval, and its restarts
    Advance(4h);
    r = Notify({a});
    EXPECT_EQ(r.repeated, 1);
    EXPECT_EQ(r.started, 0);
    EXPECT_EQ(Eval(), Strings{});
  }
}

TEST_F(AlertEngineTest, ResolvedEndsTheEpisodeAndARefireIsANewOneUnderTheCooldown) {
  Start(kPolicy);
  const auto a = MakeAlert("fp1", since, {{"connection_id", "c1"}});
  Notify({a});
  ASSERT_EQ(Eval(), Strings{"slow c1 perform"});
  Advance(5min);
  EXPECT_EQ(Notify({Resolved(a)}).ended, 1);
  EXPECT_EQ(Notify({Resolved(a)}).repeated, 1);  // a resolved notification repeats too
  EXPECT_EQ(Eval(), Strings{});
  // Fires again within the cooldown: a new episode, held back.
  Advance(1min);
  const auto again = MakeAlert("fp1", t, {{"connection_id", "c1"}});
  EXPECT_EQ(Notify({again}).started, 1);
  EXPECT_EQ(Eval(), Strings{"slow c1 suppressed:cooldown"});
  EXPECT_EQ(Notify({again}).repeated, 1);
  EXPECT_EQ(Eval(), Strings{});  // consumed: not retried when the cooldown ends
  // Resolves and fires again past the cooldown: one more purge.
  Advance(10min);
  Notify({Resolved(again)});
  Advance(30min);
  Notify({MakeAlert("fp1", t, {{"connection_id", "c1"}})});
  EXPECT_EQ(Eval(), Strings{"slow c1 perform"});
}

TEST_F(AlertEngineTest, LateNotificationsOfAnEndedOrOlderEpisodeStartNothing) {
  Start(kPolicy);
  const auto a = MakeAlert("fp1", since, {{"connection_id", "c1"}});
  // Resolved reaches us first (the firing notification was retried late): nothing fires.
  EXPECT_EQ(Notify({Resolved(a)}).ended, 1);
  EXPECT_EQ(Notify({a}).repeated, 1);
  EXPECT_EQ(Eval(), Strings{});
  // A newer episode, then a late copy of the older one.
  Advance(1h);
  const auto b = MakeAlert("fp1", t, {{"connection_id", "c1"}});
  Notify({b});
  EXPECT_EQ(Eval(), Strings{"slow c1 perform"});
  EXPECT_EQ(Notify({a}).repeated, 1);
  EXPECT_EQ(Eval(), Strings{});
}

TEST_F(AlertEngineTest, MatchesNameAndLabelsAndCountsTheRest) {
  Start(kPolicy);
  auto other_name = MakeAlert("fp1", since, {{"connection_id", "c1"}, {"alertname", "Other"}});
  auto warning = MakeAlert("fp2", since, {{"connection_id", "c2"}, {"severity", "warning"}});
  auto no_severity = MakeAlert("fp3", since, {{"connection_id", "c3"}});
  no_severity.labels.erase("severity");
  auto second_name =
      MakeAlert("fp4", since, {{"connection_id", "c4"}, {"alertname", "QueryErrors"}});
  const AlertsReport r = Notify({other_name, warning, no_severity, second_name});
  EXPECT_EQ(r.unmatched, 3);
  EXPECT_EQ(r.started, 1);
  EXPECT_EQ(Eval(), Strings{"slow c4 perform"});
}

TEST_F(AlertEngineTest, ConnectionByNameWhenThereIsNoConnectionId) {
  Start(kPolicy);
  Notify({MakeAlert("fp1", since, {{"connection", "prod-b"}})});
  EXPECT_EQ(Eval(), Strings{"slow c2 perform"});
  EXPECT_EQ(last_[0].target.connection_name, "prod-b");
}

TEST_F(AlertEngineTest, AnAlertThatNamesNoMonitoredConnectionIsIgnoredOncePerEpisode) {
  fleet_.push_back(Conn("c5", "prod-b"));  // a second prod-b
  Start(kPolicy);
  const auto gone = MakeAlert("fp1", since, {{"connection_id", "conn_gone"}});
  const auto unknown_name = MakeAlert("fp2", since, {{"connection", "retired-pg"}});
  const auto no_label = MakeAlert("fp3", since, {});
  const auto ambiguous = MakeAlert("fp4", since, {{"connection", "prod-b"}});
  AlertsReport r = Notify({gone, unknown_name, no_label, ambiguous});
  ASSERT_EQ(r.ignored.size(), 4u);
  EXPECT_EQ(r.ignored[0].reason, "connection_id \"conn_gone\" is not a monitored connection");
  EXPECT_EQ(r.ignored[1].reason, "connection \"retired-pg\" is not a monitored connection");
  EXPECT_EQ(r.ignored[2].reason, "the alert has neither a connection_id nor a connection label");
  EXPECT_EQ(r.ignored[3].reason,
            "connection \"prod-b\" names 2 monitored connections; give the alert a connection_id "
            "label");
  EXPECT_EQ(r.ignored[0].policy, "slow");
  EXPECT_EQ(r.ignored[0].trigger,
            "alert QueryLatencyHigh firing since 2023-11-14T22:08:20Z: queries are slow");
  EXPECT_EQ(Eval(), Strings{});
  Advance(4h);
  r = Notify({gone, unknown_name, no_label, ambiguous});
  EXPECT_TRUE(r.ignored.empty());
  EXPECT_EQ(r.repeated, 4);
  EXPECT_EQ(Eval(), Strings{});
}

TEST_F(AlertEngineTest, AConnectionOutsideThePolicysMatchIsIgnored) {
  Start(R"(
policies:
  - { name: pg, match: { source_type: [postgres] }, when: { event: alert, alertname: QueryLatencyHigh }, action: { purge: connection }, cooldown: 0s }
)");
  const AlertsReport r = Notify({MakeAlert("fp1", since, {{"connection_id", "c4"}})});
  ASSERT_EQ(r.ignored.size(), 1u);
  EXPECT_EQ(r.ignored[0].reason, "prod-d (c4) is not one this policy's match selects");
  EXPECT_EQ(r.ignored[0].target.connection_id, "c4");
  EXPECT_EQ(Eval(), Strings{});
}

TEST_F(AlertEngineTest, ForHoldsThePurgeUntilTheAlertHasFiredThatLongSinceStartsAt) {
  Start(R"(
policies:
  - { name: slow, when: { event: alert, alertname: QueryLatencyHigh, for: 10m }, action: { purge: connection }, cooldown: 0s }
)");
  ASSERT_EQ(Eval(), Strings{});
  const auto a = MakeAlert("fp1", t - 4min, {{"connection_id", "c1"}});
  Notify({a});
  EXPECT_EQ(Eval(), Strings{});
  EXPECT_EQ(engine_->NextDue(), t + 6min);  // no notification needed to fire it
  Advance(6min - 1s);
  EXPECT_EQ(Eval(), Strings{});
  Advance(1s);
  EXPECT_EQ(Eval(), Strings{"slow c1 perform"});
  EXPECT_EQ(engine_->NextDue(), std::nullopt);
  // Resolved before its `for`: never fires.
  const auto b = MakeAlert("fp2", t, {{"connection_id", "c2"}});
  Notify({b});
  Advance(5min);
  Notify({Resolved(b)});
  Advance(10min);
  EXPECT_EQ(Eval(), Strings{});
}

TEST_F(AlertEngineTest, TablePurgeTakesTheAlertsSchemaAndTableLabels) {
  Start(R"(
policies:
  - { name: t, when: { event: alert, alertname: QueryLatencyHigh }, action: { purge: table }, cooldown: 0s }
  - { name: listed, when: { event: alert, alertname: QueryErrors }, action: { purge: table, tables: [public.orders] }, cooldown: 0s }
)");
  AlertsReport r = Notify(
      {MakeAlert("fp1", since, {{"connection_id", "c1"}, {"schema", "shop"}, {"table", "orders"}}),
       MakeAlert("fp2", since, {{"connection_id", "c2"}}),
       MakeAlert("fp3", since,
                 {{"connection_id", "c3"},
                  {"alertname", "QueryErrors"},
                  {"schema", "x"},
                  {"table", "y"}})});
  ASSERT_EQ(r.ignored.size(), 1u);
  EXPECT_EQ(r.ignored[0].reason,
            "purge: table needs the alert's schema and table labels, or a tables: list");
  // Episodes fire in the order of (policy, fingerprint).
  EXPECT_EQ(Eval(), (Strings{"listed c3/public.orders perform", "t c1/shop.orders perform"}));
}

TEST_F(AlertEngineTest, SafetiesApply) {
  Start(R"(
safety: { dry_run: true }
policies:
  - { name: slow, when: { event: alert, alertname: QueryLatencyHigh }, action: { purge: connection }, cooldown: 1h }
)");
  Notify({MakeAlert("fp1", since, {{"connection_id", "c1"}})});
  EXPECT_EQ(Eval(), Strings{"slow c1 dry_run"});
  Start(R"(
safety: { pause_when_unhealthy_fraction_above: 0.5, pause_min_connections: 3 }
policies:
  - { name: slow, when: { event: alert, alertname: QueryLatencyHigh }, action: { purge: connection }, cooldown: 1h }
)");
  AllAnswer(false);
  Notify({MakeAlert("fp1", since, {{"connection_id", "c1"}})});
  EXPECT_EQ(Eval(), Strings{"slow c1 suppressed:outage_pause"});
}

TEST_F(AlertEngineTest, EpisodesSurviveARestartThroughTheStateFile) {
  Start(kPolicy);
  const auto fired = MakeAlert("fp1", since + 123ms, {{"connection_id", "c1"}});
  const auto ignored = MakeAlert("fp2", since, {{"connection_id", "conn_gone"}});
  Notify({fired, ignored});
  ASSERT_EQ(Eval(), Strings{"slow c1 perform"});
  Advance(1min);
  RestartThroughJson();
  const AlertsReport r = Notify({fired, ignored});
  EXPECT_EQ(r.repeated, 2);
  EXPECT_TRUE(r.ignored.empty());
  EXPECT_EQ(Eval(), Strings{});
}

TEST_F(AlertEngineTest, EpisodesSurviveAChangeOfThePolicyButNotItsRemoval) {
  Start(kPolicy);
  const auto a = MakeAlert("fp1", since, {{"connection_id", "c1"}});
  Notify({a});
  ASSERT_EQ(Eval(), Strings{"slow c1 perform"});
  engine_->Reconfigure(ConfigFrom(R"(
policies:
  - { name: slow, when: { event: alert, alertname: [QueryLatencyHigh], for: 1m }, action: { purge: connection }, cooldown: 0s }
)"));
  EXPECT_EQ(Notify({a}).repeated, 1);
  EXPECT_EQ(Eval(), Strings{});
  engine_->Reconfigure(ConfigFrom(R"(
policies:
  - { name: slow, when: { event: unhealthy, after_failures: 1 }, action: { purge: connection }, cooldown: 0s }
  - { name: again, when: { event: alert, alertname: [QueryLatencyHigh] }, action: { purge: connection }, cooldown: 0s }
)"));
  EXPECT_TRUE(engine_->Export().alert_episodes.empty());
  Notify({a});
  EXPECT_EQ(Eval(), Strings{"again c1 perform"});
}

TEST_F(AlertEngineTest, EndedEpisodesAndSilentOnesAreForgottenAndTheirNumberIsBounded) {
  Start(kPolicy);
  const auto ended = MakeAlert("fp1", since, {{"connection_id", "c1"}});
  const auto silent = MakeAlert("fp2", since, {{"connection_id", "c2"}});
  Notify({ended, silent});
  Eval();
  Notify({Resolved(ended)});
  Advance(24h + 1s);
  Eval();
  EXPECT_EQ(engine_->Export().alert_episodes.size(), 1u);  // the ended one is gone
  Advance(6 * 24h);
  Eval();
  EXPECT_TRUE(engine_->Export().alert_episodes.empty());

  std::vector<webhook::Alert> flood;
  for (size_t i = 0; i < kMaxAlertEpisodes + 5; ++i) {
    flood.push_back(MakeAlert("f" + std::to_string(i), t, {{"connection_id", "gone"}}));
  }
  Notify(flood);
  EXPECT_EQ(engine_->Export().alert_episodes.size(), kMaxAlertEpisodes);
}

TEST_F(AlertEngineTest, TwoAlertsOnOneConnectionMakeOneDecision) {
  Start(kPolicy);
  Notify({MakeAlert("fp1", since, {{"connection_id", "c1"}}),
          MakeAlert("fp2", since, {{"connection_id", "c1"}, {"alertname", "QueryErrors"}})});
  EXPECT_EQ(Eval(), Strings{"slow c1 perform"});
  EXPECT_NE(last_[0].trigger.find("QueryErrors"), std::string::npos) << last_[0].trigger;
}

}  // namespace
}  // namespace hdm::policy::testing
