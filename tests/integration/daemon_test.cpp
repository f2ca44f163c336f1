// The real daemon components against the fake Hotdata API, over HTTP on 127.0.0.1.
#include <gtest/gtest.h>

#include "integration/harness.h"

namespace hdm::testing {
namespace {

std::string Labels(const std::string& id, const std::string& name) {
  return "{connection_id=\"" + id + "\",connection=\"" + name + "\"}";
}

TEST(DaemonTest, ExportsEveryConnectionWithTheRightValues) {
  DaemonHarness h;
  ASSERT_TRUE(h.WaitForRounds(1));
  // Each connection's details are a request of their own, answered in any order: wait for all.
  ASSERT_TRUE(WaitFor([&] {
    const std::string m = h.Metrics();
    for (const auto& [id, name] : {std::pair{"conn_sf", "analytics-sf"},
                                   {"conn_pg", "prod-pg"},
                                   {"conn_my", "prod-mysql"}}) {
      if (!SeriesValue(m, "hotdata_connection_tables" + Labels(id, name))) return false;
    }
    return true;
  }));
  const std::string m = h.Metrics();
  EXPECT_EQ(SeriesValue(m, "hotdata_connection_healthy" + Labels("conn_pg", "prod-pg")), 1);
  EXPECT_EQ(SeriesValue(m, "hotdata_connection_healthy" + Labels("conn_sf", "analytics-sf")), 0);
  EXPECT_EQ(SeriesValue(m, "hotdata_connection_latency_seconds" + Labels("conn_pg", "prod-pg")),
            0.042);
  EXPECT_EQ(
      SeriesValue(m, "hotdata_connection_latency_seconds" + Labels("conn_sf", "analytics-sf")),
      1.5);
  EXPECT_EQ(SeriesValue(m, "hotdata_connection_check_success" + Labels("conn_my", "prod-mysql")),
            1);
  EXPECT_GE(
      *SeriesValue(m, "hotdata_connection_unhealthy_streak" + Labels("conn_sf", "analytics-sf")),
      1);
  EXPECT_EQ(SeriesValue(m, "hotdata_connection_tables" + Labels("conn_pg", "prod-pg")), 12);
  EXPECT_EQ(SeriesValue(m, "hotdata_connection_synced_tables" + Labels("conn_pg", "prod-pg")), 10);
  EXPECT_EQ(SeriesValue(m,
                        "hotdata_connection_info{connection_id=\"conn_my\",connection=\"prod-"
                        "mysql\",source_type=\"mysql\"}"),
            1);
  EXPECT_TRUE(SeriesValue(m, "hotdata_connection_last_check_timestamp_seconds" +
                                 Labels("conn_pg", "prod-pg"))
                  .has_value());
  EXPECT_EQ(SeriesValue(m, "hotdata_monitor_connections"), 3);
  EXPECT_GT(*SeriesValue(m,
                         "hotdata_api_requests_total{code=\"200\","
                         "operation=\"check_connection_health\"}"),
            2);
  EXPECT_EQ(SeriesValue(m, "hotdata_monitor_config_last_reload_successful"), 1);
  EXPECT_NE(m.find("process_resident_memory_bytes "), std::string::npos);
}

TEST(DaemonTest, SendsTokenAndWorkspaceOnEveryRequestAndServesStatus) {
  DaemonHarness h;
  ASSERT_TRUE(h.WaitForRounds(1));
  const auto requests = h.fake().Requests();
  ASSERT_FALSE(requests.empty());
  for (const auto& r : requests) {
    EXPECT_EQ(r.Header("Authorization"), std::string("Bearer ") + kToken) << r.path;
    EXPECT_EQ(r.Header("X-Workspace-Id"), "ws_test") << r.path;
  }
  auto status = h.Get("/api/v1/status");
  EXPECT_EQ(status.status, 200);
  EXPECT_NE(status.body.find("\"prod-pg\""), std::string::npos);
  EXPECT_NE(status.body.find("connection refused"), std::string::npos);
  EXPECT_EQ(status.body.find(kToken), std::string::npos);
}

TEST(DaemonTest, ARemovedConnectionLosesAllItsSeries) {
  DaemonHarness h;
  ASSERT_TRUE(h.WaitForRounds(1));
  ASSERT_NE(h.Metrics().find("conn_my"), std::string::npos);
  h.fake().Remove("conn_my");
  EXPECT_TRUE(WaitFor([&] { return h.Metrics().find("conn_my") == std::string::npos; }));
  EXPECT_NE(h.Metrics().find("conn_pg"), std::string::npos);
}

TEST(DaemonTest, AFailedOrMalformedListKeepsTheKnownSet) {
  DaemonHarness h;
  ASSERT_TRUE(h.WaitForRounds(1));
  h.fake().Script("GET", "/v1/connections", {.status = 200, .body = "{\"connections\": [{\"id\":"});
  ASSERT_TRUE(WaitFor([&] {
    auto v = SeriesValue(h.Metrics(), "hotdata_monitor_discovery_failures_total");
    return v && *v >= 1;
  }));
  h.fake().Script("GET", "/v1/connections", {.status = 503, .body = "<html>busy</html>"});
  const uint64_t rounds = h.daemon().scheduler().RoundsCompleted();
  ASSERT_TRUE(h.WaitForRounds(rounds + 2));
  const std::string m = h.Metrics();
  EXPECT_EQ(SeriesValue(m, "hotdata_monitor_connections"), 3);
  EXPECT_EQ(SeriesValue(m, "hotdata_connection_healthy" + Labels("conn_pg", "prod-pg")), 1);
}

TEST(DaemonTest, ReadyOnlyAfterTheFirstDiscovery) {
  DaemonHarness h;
  // A second daemon against the same fake, started while the list fails.
  h.fake().Script("GET", "/v1/connections", {.status = 503, .body = "{}"});
  TempDir dir;
  const std::string token = dir.Write("token", kToken);
  const std::string cfg = dir.Write("c.yaml", TestConfig(h.fake().base_url(), token));
  auto d = Daemon::Create({.config_path = cfg});
  ASSERT_TRUE(d.has_value()) << d.error();
  auto port = (*d)->Start();
  ASSERT_TRUE(port.has_value());
  auto readyz = [&] {
    httplib::Client cli("127.0.0.1", *port);
    auto r = cli.Get("/readyz");
    return r ? r->status : -1;
  };
  EXPECT_EQ(readyz(), 503);
  EXPECT_TRUE(WaitFor([&] { return (*d)->scheduler().Snapshot().discoveries_failed >= 1; }));
  EXPECT_EQ(readyz(), 503);
  h.fake().ClearScripts();
  EXPECT_TRUE(WaitFor([&] { return readyz() == 200; }));
  (*d)->Stop();
}

TEST(DaemonTest, MetricsAreGzippedWhenAsked) {
  DaemonHarness h;
  ASSERT_TRUE(h.WaitForRounds(1));
  auto plain = h.Get("/metrics");
  auto gz = h.Get("/metrics", true);
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.content_encoding, "");
  EXPECT_EQ(gz.status, 200);
  EXPECT_EQ(gz.content_encoding, "gzip");
  EXPECT_NE(gz.body.find("# TYPE hotdata_connection_healthy gauge"), std::string::npos);
}

TEST(DaemonTest, ExportsTheProfilesOfTheTablesList) {
  DaemonHarness h(
      "tables:\n"
      "  - { connection: prod-pg, schema: public, table: orders }\n"
      "  - { connection: conn_pg, schema: eu.sales, table: Order Items }\n"
      "  - { connection: no-such-connection, schema: public, table: x }\n");
  const std::string orders =
      "{connection_id=\"conn_pg\",connection=\"prod-pg\",schema=\"public\",table=\"orders\"}";
  const std::string items =
      "{connection_id=\"conn_pg\",connection=\"prod-pg\",schema=\"eu."
      "sales\",table=\"Order Items\"}";
  // The two profiles are fetched concurrently: wait for both before asserting either.
  ASSERT_TRUE(WaitFor([&] {
    const std::string now = h.Metrics();
    return SeriesValue(now, "hotdata_table_rows" + items).has_value() &&
           SeriesValue(now, "hotdata_table_last_synced_timestamp_seconds" + orders).has_value();
  })) << h.Get("/api/v1/status").body;
  const std::string m = h.Metrics();
  EXPECT_EQ(SeriesValue(m, "hotdata_table_rows" + orders), 1234);
  EXPECT_EQ(SeriesValue(m, "hotdata_table_last_synced_timestamp_seconds" + orders), 1700000000);
  EXPECT_EQ(SeriesValue(m, "hotdata_table_rows" + items), 7);
  EXPECT_FALSE(SeriesValue(m, "hotdata_table_last_synced_timestamp_seconds" + items));
  EXPECT_EQ(m.find("no-such-connection"), std::string::npos);
  EXPECT_GE(h.fake().CountRequests("GET",
                                   "/v1/connections/conn_pg/tables/eu.sales/Order%20Items/profile"),
            1u);
}

TEST(DaemonTest, ReloadSwapsAValidConfigAndKeepsTheOldOneOnErrors) {
  DaemonHarness h;
  ASSERT_TRUE(h.WaitForRounds(1));
  const std::string token = (h.dir().path() / "token").string();
  // Valid: exclude a connection; the others keep their state and series.
  std::string next = TestConfig(h.fake().base_url(), token);
  const std::string sched = "  concurrency: 4\n";
  next.insert(next.find(sched) + sched.size(), "  exclude: { name: [\"prod-mysql\"] }\n");
  h.dir().Write("config.yaml", next);
  httplib::Client cli("127.0.0.1", h.port());
  auto ok = cli.Post("/-/reload");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  EXPECT_TRUE(WaitFor([&] { return h.Metrics().find("conn_my") == std::string::npos; }));
  std::string m = h.Metrics();
  EXPECT_EQ(SeriesValue(m, "hotdata_monitor_config_last_reload_successful"), 1);
  EXPECT_EQ(SeriesValue(m, "hotdata_connection_healthy" + Labels("conn_pg", "prod-pg")), 1);
  // Invalid: rejected with its position; the running config stays in force.
  h.dir().Write("config.yaml", "api:\n  base_url: http://x\nscheduler:\n  intervall: 5s\n");
  auto bad = cli.Post("/-/reload");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 500);
  EXPECT_NE(bad->body.find("config.yaml:4:3: scheduler.intervall"), std::string::npos) << bad->body;
  const uint64_t rounds = h.daemon().scheduler().RoundsCompleted();
  ASSERT_TRUE(h.WaitForRounds(rounds + 2));
  m = h.Metrics();
  EXPECT_EQ(SeriesValue(m, "hotdata_monitor_config_last_reload_successful"), 0);
  EXPECT_EQ(SeriesValue(m, "hotdata_monitor_connections"), 2);
  EXPECT_EQ(h.daemon().config()->api.base_url, h.fake().base_url());
}

// The gauges that let alert rules do without hard-coded numbers: the configured intervals, the
// shard, the purge budget (limit and what is left after one real purge) and each watched table's
// max age (the smallest max_age of the matching table_stale policies, else one day); and the
// discoveries counter. The intervals and the budget follow a reload.
TEST(DaemonTest, ExportsTheConfiguredIntervalsShardBudgetAndTableMaxAges) {
  const std::string extra =
      "tables:\n"
      "  - { connection: prod-pg, schema: public, table: orders }\n"
      "  - { connection: analytics-sf, schema: public, table: events }\n"
      "safety: { max_purges_per_hour: 7 }\n"
      "policies:\n"
      "  - name: stale-prod\n"
      "    match: { name: [\"prod-*\"] }\n"
      "    when: { event: table_stale, max_age: 6h }\n"
      "    action: { purge: table }\n"
      "  - name: stale-postgres\n"
      "    match: { source_type: [postgres] }\n"
      "    when: { event: table_stale, max_age: 2h }\n"
      "    action: { purge: table }\n"
      "    dry_run: true\n";
  DaemonHarness h(extra);
  const std::string orders =
      "{connection_id=\"conn_pg\",connection=\"prod-pg\",schema=\"public\",table=\"orders\"}";
  const std::string events =
      "{connection_id=\"conn_sf\",connection=\"analytics-sf\",schema=\"public\",table="
      "\"events\"}";
  // orders was last synced in 2023: stale-prod purges it once (stale-postgres only dry-runs),
  // which spends one purge of the budget.
  const std::string purge = "/v1/connections/conn_pg/tables/public/orders/cache";
  ASSERT_TRUE(WaitFor([&] {
    const std::string now = h.Metrics();
    return SeriesValue(now, "hotdata_policy_budget_remaining") == 6 &&
           SeriesValue(now, "hotdata_table_max_age_seconds" + events).has_value() &&
           h.fake().CountRequests("DELETE", purge) == 1;
  })) << h.Metrics();
  std::string m = h.Metrics();
  EXPECT_EQ(SeriesValue(m, "hotdata_monitor_check_interval_seconds"), 1);
  EXPECT_EQ(SeriesValue(m, "hotdata_monitor_discovery_interval_seconds"), 1);
  EXPECT_EQ(SeriesValue(m, "hotdata_monitor_shard_info{shard=\"0\",shards=\"1\"}"), 1);
  EXPECT_EQ(SeriesValue(m, "hotdata_policy_budget_limit"), 7);
  EXPECT_EQ(SeriesValue(m, "hotdata_table_max_age_seconds" + orders), 2 * 3600);
  EXPECT_EQ(SeriesValue(m, "hotdata_table_max_age_seconds" + events), 86400);
  const auto discoveries = SeriesValue(m, "hotdata_monitor_discoveries_total");
  ASSERT_TRUE(discoveries.has_value());
  EXPECT_GE(*discoveries, 1);
  EXPECT_GE(*discoveries, *SeriesValue(m, "hotdata_monitor_discovery_failures_total"));

  // A reload: a longer check interval, a bigger budget, stale-postgres gone.
  std::string next = TestConfig(h.fake().base_url(), (h.dir().path() / "token").string(), extra);
  next.replace(next.find("  interval: 1s\n"), 15, "  interval: 2s\n");
  next.replace(next.find("max_purges_per_hour: 7"), 22, "max_purges_per_hour: 9");
  next.erase(next.find("  - name: stale-postgres"));
  h.dir().Write("config.yaml", next);
  httplib::Client cli("127.0.0.1", h.port());
  auto reloaded = cli.Post("/-/reload");
  ASSERT_TRUE(reloaded);
  ASSERT_EQ(reloaded->status, 200) << reloaded->body;
  m = h.Metrics();
  EXPECT_EQ(SeriesValue(m, "hotdata_monitor_check_interval_seconds"), 2);
  EXPECT_EQ(SeriesValue(m, "hotdata_monitor_discovery_interval_seconds"), 1);
  EXPECT_EQ(SeriesValue(m, "hotdata_policy_budget_limit"), 9);
  EXPECT_EQ(SeriesValue(m, "hotdata_policy_budget_remaining"), 8);
  EXPECT_EQ(SeriesValue(m, "hotdata_table_max_age_seconds" + orders), 6 * 3600);
}

TEST(DaemonTest, HealthzAndUnknownPaths) {
  DaemonHarness h;
  EXPECT_EQ(h.Get("/healthz").status, 200);
  EXPECT_EQ(h.Get("/nope").status, 404);
  EXPECT_EQ(h.Get("/").status, 200);
}

}  // namespace
}  // namespace hdm::testing
