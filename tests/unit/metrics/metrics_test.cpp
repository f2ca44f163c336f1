#include "metrics/metrics.h"
#include "common/version.h"

#include <optional>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

namespace hdm {
namespace {

using hotdata::Operation;

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

int CountLines(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) n += line.starts_with(prefix) ? 1 : 0;
  return n;
}

TEST(MetricsTest, ConcurrentRequestsAreAllCounted) {
  Metrics metrics;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every thread reports 200s; odd threads also create new codes while others count.
        metrics.OnRequest(Operation::kCheckConnectionHealth, "200", 0.02);
        if (t % 2 == 1)
          metrics.OnRequest(Operation::kListConnections, i % 2 ? "503" : "timeout", 3);
      }
    });
  }
  for (std::thread& t : threads) t.join();

  const std::string out = metrics.Render(FleetSnapshot{});
  EXPECT_EQ(
      SampleValue(out,
                  R"(hotdata_api_requests_total{code="200",operation="check_connection_health"})"),
      kThreads * kPerThread);
  EXPECT_EQ(
      SampleValue(out, R"(hotdata_api_requests_total{code="503",operation="list_connections"})"),
      kThreads / 2 * kPerThread / 2);
  EXPECT_EQ(SampleValue(
                out, R"(hotdata_api_requests_total{code="timeout",operation="list_connections"})"),
            kThreads / 2 * kPerThread / 2);
  EXPECT_EQ(
      SampleValue(
          out,
          R"(hotdata_api_request_duration_seconds_count{operation="check_connection_health"})"),
      kThreads * kPerThread);
  EXPECT_EQ(
      SampleValue(
          out,
          R"(hotdata_api_request_duration_seconds_bucket{operation="check_connection_health",le="0.025"})"),
      kThreads * kPerThread);
  EXPECT_EQ(
      SampleValue(
          out,
          R"(hotdata_api_request_duration_seconds_bucket{operation="list_connections",le="2.5"})"),
      0);
  EXPECT_EQ(
      SampleValue(
          out,
          R"(hotdata_api_request_duration_seconds_bucket{operation="list_connections",le="5"})"),
      kThreads / 2 * kPerThread);
  EXPECT_EQ(CountLines(out, "hotdata_api_requests_total{"), 3);
}

TEST(MetricsTest, DurationHistogramsExistForEveryOperationBeforeAnyRequest) {
  const std::string out = Metrics().Render(FleetSnapshot{});
  EXPECT_EQ(CountLines(out, "hotdata_api_request_duration_seconds_count{"),
            hotdata::kOperationCount);
  EXPECT_EQ(
      CountLines(out,
                 R"(hotdata_api_request_duration_seconds_bucket{operation="get_table_profile")"),
      14);  // 13 bounds and +Inf
  EXPECT_EQ(
      SampleValue(out,
                  R"(hotdata_api_request_duration_seconds_count{operation="purge_table_cache"})"),
      0);
  EXPECT_EQ(CountLines(out, "hotdata_api_requests_total"), 0);
}

TEST(MetricsTest, ConfigReloadTimestampMovesOnlyOnSuccess) {
  Metrics metrics;
  const SysTime t1 = SysTime(std::chrono::seconds(1'700'000'000));
  metrics.SetConfigReload(true, t1);
  std::string out = metrics.Render(FleetSnapshot{});
  EXPECT_EQ(SampleValue(out, "hotdata_monitor_config_last_reload_successful"), 1);
  EXPECT_EQ(SampleValue(out, "hotdata_monitor_config_last_reload_success_timestamp_seconds"),
            1'700'000'000);

  metrics.SetConfigReload(false, t1 + std::chrono::seconds(60));
  out = metrics.Render(FleetSnapshot{});
  EXPECT_EQ(SampleValue(out, "hotdata_monitor_config_last_reload_successful"), 0);
  EXPECT_EQ(SampleValue(out, "hotdata_monitor_config_last_reload_success_timestamp_seconds"),
            1'700'000'000);
}

TEST(MetricsTest, RenderHasBuildInfoFleetAndProcessFamilies) {
  FleetSnapshot snapshot;
  ConnectionState c;
  c.info = {"c1", "alpha", "postgres"};
  snapshot.connections.push_back(c);
  const std::string out = Metrics().Render(snapshot);
  EXPECT_EQ(SampleValue(out, std::string("hotdata_monitor_build_info{revision=\"") + kRevision +
                                 "\",version=\"" + kVersion + "\"}"),
            1);
  EXPECT_EQ(
      SampleValue(
          out,
          R"(hotdata_connection_info{connection_id="c1",connection="alpha",source_type="postgres"})"),
      1);
  EXPECT_EQ(SampleValue(out, "hotdata_monitor_connections"), 1);
  EXPECT_GT(SampleValue(out, "process_resident_memory_bytes").value_or(0), 0);
}

TEST(MetricsTest, PolicyBudgetLimitAndRemainingAreRendered) {
  PolicyCounters policy;
  policy.budget_limit = 30;
  policy.budget_remaining = 27;
  const std::string out = Metrics().Render(FleetSnapshot{}, &policy);
  EXPECT_EQ(SampleValue(out, "hotdata_policy_budget_limit"), 30);
  EXPECT_EQ(SampleValue(out, "hotdata_policy_budget_remaining"), 27);
  EXPECT_EQ(CountLines(out, "# TYPE hotdata_policy_budget_limit gauge"), 1);
  EXPECT_EQ(CountLines(out, "# TYPE hotdata_policy_budget_remaining gauge"), 1);
  // Without a policy engine there is no budget to report.
  const std::string without = Metrics().Render(FleetSnapshot{});
  EXPECT_EQ(CountLines(without, "hotdata_policy_budget"), 0);
}

TableState Table(std::string id, std::string name, std::string schema, std::string table) {
  TableState t;
  t.connection_id = std::move(id);
  t.connection_name = std::move(name);
  t.schema = std::move(schema);
  t.table = std::move(table);
  return t;
}

TEST(MetricsTest, TableMaxAgeIsTheSmallestMatchingTableStalePolicyElseOneDay) {
  using std::chrono::hours;
  FleetSnapshot snapshot;
  for (auto [id, name, type] :
       {std::tuple{"c1", "alpha", "postgres"}, std::tuple{"c2", "beta", "mysql"}}) {
    ConnectionState c;
    c.info = {id, name, type};
    snapshot.connections.push_back(c);
  }
  snapshot.tables = {Table("c1", "alpha", "public", "orders"),
                     Table("c2", "beta", "eu.sales", "Order \"Items\"")};
  const std::string orders =
      R"(hotdata_table_max_age_seconds{connection_id="c1",connection="alpha",schema="public",)"
      R"(table="orders"})";
  const std::string items =
      R"(hotdata_table_max_age_seconds{connection_id="c2",connection="beta",schema="eu.sales",)"
      R"(table="Order \"Items\""})";

  // No table_stale policy: the documented default of one day.
  PolicyCounters none;
  std::string out = Metrics().Render(snapshot, &none);
  EXPECT_EQ(SampleValue(out, orders), 86400);
  EXPECT_EQ(SampleValue(out, items), 86400);
  EXPECT_EQ(CountLines(out, "# HELP hotdata_table_max_age_seconds "), 1);

  // The smallest max_age among the policies whose match selects the table's connection,
  // source_type included (read from the connection, not the table).
  PolicyCounters policy;
  policy.table_stale = {{.match = {}, .max_age = hours(12)},
                        {.match = {.source_type = {"postgres"}}, .max_age = hours(2)},
                        {.match = {.name = {"alpha"}}, .max_age = hours(6)},
                        {.match = {.name = {"gamma-*"}}, .max_age = hours(1)}};
  out = Metrics().Render(snapshot, &policy);
  EXPECT_EQ(SampleValue(out, orders), 7200);
  EXPECT_EQ(SampleValue(out, items), 43200);

  // Only policies that match nothing: the default again.
  policy.table_stale = {{.match = {.id = {"c9"}}, .max_age = hours(1)}};
  out = Metrics().Render(snapshot, &policy);
  EXPECT_EQ(SampleValue(out, orders), 86400);

  // No policy engine: not rendered.
  EXPECT_EQ(CountLines(Metrics().Render(snapshot), "hotdata_table_max_age_seconds"), 0);
}

TEST(MetricsTest, TableMaxAgeOfAConnection) {
  using std::chrono::minutes;
  const hotdata::ConnectionInfo pg{"id1", "prod-pg", "postgres"};
  EXPECT_EQ(TableMaxAge({}, pg), kDefaultTableMaxAge);
  EXPECT_EQ(TableMaxAge({{.match = {.name = {"prod-*"}}, .max_age = minutes(90)},
                         {.match = {.source_type = {"mysql"}}, .max_age = minutes(5)}},
                        pg),
            minutes(90));
}

}  // namespace
}  // namespace hdm
