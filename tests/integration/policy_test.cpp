// The whole loop, checks -> engine -> runner -> API, against the fake: the exact DELETE requests
// the fake saw.
#include <gtest/gtest.h>

#include "integration/harness.h"

namespace hdm::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kSfCache[] = "/v1/connections/conn_sf/cache";
constexpr char kPgCache[] = "/v1/connections/conn_pg/cache";

size_t Deletes(DaemonHarness& h, const std::string& path) {
  return h.fake().CountRequests("DELETE", path);
}

double Counter(DaemonHarness& h, const std::string& series) {
  return SeriesValue(h.Metrics(), series).value_or(-1);
}

// Waits until `conn` has had at least `n` more answers than now.
bool WaitForAnswers(DaemonHarness& h, int n) {
  const uint64_t rounds = h.daemon().scheduler().RoundsCompleted();
  return h.WaitForRounds(rounds + n);
}

TEST(PolicyLoopTest, RecoveredPurgesOnceAndNotAgainInsideTheCooldown) {
  DaemonHarness h(R"(policies:
  - name: after-outage
    match: { name: ["analytics-*"] }
    when: { event: recovered, after_failures: 2 }
    action: { purge: connection }
    cooldown: 30m
)");
  ASSERT_TRUE(WaitFor([&] {
    auto v = SeriesValue(h.Metrics(),
                         "hotdata_connection_consecutive_failures{connection_id="
                         "\"conn_sf\",connection=\"analytics-sf\"}");
    return v && *v >= 2;
  }));
  EXPECT_EQ(Deletes(h, kSfCache), 0u);
  h.fake().SetHealth("conn_sf", true, 20);
  ASSERT_TRUE(WaitFor([&] { return Deletes(h, kSfCache) == 1; }));
  // A second outage and recovery inside the cooldown: held back, counted, not sent.
  h.fake().SetHealth("conn_sf", false, 20, "down again");
  ASSERT_TRUE(WaitForAnswers(h, 3));
  h.fake().SetHealth("conn_sf", true, 20);
  ASSERT_TRUE(WaitFor([&] {
    return Counter(
               h, "hotdata_policy_suppressed_total{policy=\"after-outage\",reason=\"cooldown\"}") >=
           1;
  }));
  EXPECT_EQ(Deletes(h, kSfCache), 1u);
  EXPECT_EQ(Counter(h,
                    "hotdata_policy_actions_total{policy=\"after-outage\",action=\"purge_"
                    "connection\",result=\"success\"}"),
            1);
  EXPECT_TRUE(SeriesValue(h.Metrics(),
                          "hotdata_connection_last_purge_timestamp_seconds{"
                          "connection_id=\"conn_sf\",connection=\"analytics-sf\"}"));
  const std::string actions = h.Get("/api/v1/actions").body;
  EXPECT_NE(actions.find("\"outcome\":\"success\""), std::string::npos) << actions;
  EXPECT_NE(actions.find("recovered after"), std::string::npos) << actions;
  EXPECT_NE(h.Get("/api/v1/status").body.find("\"cooldown_until\""), std::string::npos);
}

TEST(PolicyLoopTest, FailedChecksNeverPurge) {
  DaemonHarness h(R"(policies:
  - name: on-unhealthy
    match: { name: ["prod-pg"] }
    when: { event: unhealthy, after_failures: 1 }
    action: { purge: connection }
)");
  h.fake().Script("GET", "/v1/connections/conn_pg/health", {.status = 503, .body = "{}"});
  ASSERT_TRUE(WaitForAnswers(h, 4));
  EXPECT_EQ(Deletes(h, kPgCache), 0u);
  EXPECT_EQ(Counter(h,
                    "hotdata_policy_actions_total{policy=\"on-unhealthy\",action=\"purge_"
                    "connection\",result=\"success\"}"),
            0);
}

TEST(PolicyLoopTest, DryRunDecidesButNeverPurges) {
  DaemonHarness h(R"(safety: { dry_run: true }
policies:
  - name: on-unhealthy
    when: { event: unhealthy, after_failures: 1 }
    action: { purge: connection }
)");
  ASSERT_TRUE(WaitFor([&] {
    return Counter(h,
                   "hotdata_policy_actions_total{policy=\"on-unhealthy\",action=\"purge_"
                   "connection\",result=\"dry_run\"}") >= 1;
  }));
  ASSERT_TRUE(WaitForAnswers(h, 2));
  EXPECT_EQ(Deletes(h, kSfCache), 0u);
  EXPECT_NE(h.Get("/api/v1/actions").body.find("dry_run"), std::string::npos);
}

TEST(PolicyLoopTest, TheOutagePauseHoldsEveryPurge) {
  DaemonHarness h(R"(safety: { pause_when_unhealthy_fraction_above: 0.5, pause_min_connections: 3 }
policies:
  - name: on-unhealthy
    when: { event: unhealthy, after_failures: 3 }
    action: { purge: connection }
)");
  // Two of three unhealthy: more than half; the API-wide outage look. conn_pg turns unhealthy
  // now, a whole round before conn_sf's third unhealthy answer, so the pause holds by then.
  h.fake().SetHealth("conn_pg", false, 5, "down");
  ASSERT_TRUE(WaitFor([&] { return Counter(h, "hotdata_policy_outage_pause") == 1; }));
  ASSERT_TRUE(WaitForAnswers(h, 4));
  EXPECT_EQ(Deletes(h, kSfCache), 0u);
  EXPECT_EQ(Deletes(h, kPgCache), 0u);
  // Recovering from the outage purges nothing either: the episodes overlapped the pause.
  h.fake().SetHealth("conn_pg", true, 5);
  ASSERT_TRUE(WaitFor([&] { return Counter(h, "hotdata_policy_outage_pause") == 0; }));
  ASSERT_TRUE(WaitForAnswers(h, 3));
  EXPECT_EQ(Deletes(h, kPgCache), 0u);
  EXPECT_EQ(Deletes(h, kSfCache), 0u);
}

TEST(PolicyLoopTest, APermanent400IsAttemptedOnce) {
  DaemonHarness h(R"(policies:
  - name: every-second
    match: { name: ["managed-cat"] }
    when: { event: schedule, every: 1s }
    action: { purge: connection }
    cooldown: 1s
)");
  h.fake().Upsert({.id = "conn_mg", .name = "managed-cat", .source_type = "managed"});
  ASSERT_TRUE(WaitFor([&] {
    return Counter(h,
                   "hotdata_policy_suppressed_total{policy=\"every-second\",reason=\"permanent_"
                   "error\"}") >= 2;
  }));
  EXPECT_EQ(Deletes(h, "/v1/connections/conn_mg/cache"), 1u);
  EXPECT_NE(h.Get("/api/v1/actions").body.find("managed catalogs cannot be purged"),
            std::string::npos);
}

TEST(PolicyLoopTest, TheCooldownHoldsAcrossARestart) {
  DaemonHarness h(R"(policies:
  - name: every-second
    match: { name: ["prod-pg"] }
    when: { event: schedule, every: 1s }
    action: { purge: connection }
    cooldown: 1h
)");
  ASSERT_TRUE(WaitFor([&] { return Deletes(h, kPgCache) == 1; }));
  h.RestartDaemon();
  ASSERT_TRUE(WaitFor([&] {
    return Counter(
               h, "hotdata_policy_suppressed_total{policy=\"every-second\",reason=\"cooldown\"}") >=
           1;
  }));
  EXPECT_EQ(Deletes(h, kPgCache), 1u);
}

TEST(PolicyLoopTest, TablePurgesUsePercentEncodedNames) {
  DaemonHarness h(R"(policies:
  - name: tables
    match: { name: ["prod-pg"] }
    when: { event: schedule, every: 1s }
    action: { purge: table, tables: ["public.orders", { schema: "eu.sales", table: "Order Items" }] }
    cooldown: 1h
)");
  const std::string items = "/v1/connections/conn_pg/tables/eu.sales/Order%20Items/cache";
  const std::string orders = "/v1/connections/conn_pg/tables/public/orders/cache";
  ASSERT_TRUE(WaitFor([&] { return Deletes(h, items) == 1 && Deletes(h, orders) == 1; }));
  EXPECT_EQ(Deletes(h, kPgCache), 0u);
}

TEST(PolicyLoopTest, AnEveryScheduleFirstFiresOnePeriodAfterStart) {
  const auto start = std::chrono::steady_clock::now();
  DaemonHarness h(R"(policies:
  - name: every-2s
    match: { name: ["prod-mysql"] }
    when: { event: schedule, every: 2s }
    action: { purge: connection }
    cooldown: 1s
)");
  const std::string path = "/v1/connections/conn_my/cache";
  ASSERT_TRUE(WaitFor([&] { return Deletes(h, path) >= 1; }));
  // Never early (a lower bound holds on any machine), and it keeps firing.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1900ms);
  ASSERT_TRUE(WaitFor([&] { return Deletes(h, path) >= 2; }));
}

}  // namespace
}  // namespace hdm::testing
