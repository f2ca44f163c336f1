#include "metrics/fleet_metrics.h"

#include <gtest/gtest.h>

namespace hdm::metrics {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const SysTime kT0 = SysTime(seconds(1'700'000'000));

ConnectionState Connection(std::string id, std::string name, std::string source_type) {
  ConnectionState c;
  c.info = {std::move(id), std::move(name), std::move(source_type)};
  return c;
}

// Checked, healthy, with details and a purge.
ConnectionState Healthy() {
  ConnectionState c = Connection("c1", "alpha", "postgres");
  c.table_count = 12;
  c.synced_table_count = 10;
  c.healthy = true;
  c.latency_seconds = 0.012;
  c.last_answer = kT0;
  c.checked = true;
  c.check_success = true;
  c.check_duration_seconds = 0.25;
  c.last_check = kT0 + milliseconds(500);
  c.last_purge = kT0 - seconds(1000);
  return c;
}

// Discovered, never answered: only the always-known series.
ConnectionState Fresh() { return Connection("c2", "we\"ird\\name\nx", "mysql"); }

// Unhealthy three times, then a failed check: `healthy` keeps the last answer.
ConnectionState FailedCheck() {
  ConnectionState c = Connection("c3", "gamma", "snowflake");
  c.healthy = false;
  c.latency_seconds = 1.5;
  c.checked = true;
  c.check_success = false;
  c.check_duration_seconds = 5;
  c.last_check = kT0 + seconds(2);
  c.last_check_error_code = "timeout";
  c.consecutive_failures = 3;
  return c;
}

std::string Render(const FleetSnapshot& s) {
  std::string out;
  AppendFleetMetrics(out, s);
  return out;
}

TEST(FleetMetricsTest, RendersExactLinesAndOmitsUnknownSeries) {
  FleetSnapshot s;
  s.taken = kT0 + seconds(3);
  s.discovered = true;
  s.connections = {Healthy(), Fresh(), FailedCheck()};
  s.last_round_end = kT0 + seconds(2);
  s.last_round_duration_seconds = 2.5;
  s.rounds_completed = 7;
  s.rounds_overrun = 1;
  s.discoveries = 9;
  s.discoveries_failed = 2;
  s.last_discovery = kT0 - milliseconds(250);
  s.check_interval_seconds = 30;
  s.discovery_interval_seconds = 300;
  s.shard_index = 2;
  s.shard_count = 4;

  const std::string c1 = R"({connection_id="c1",connection="alpha"})";
  const std::string c2 = R"({connection_id="c2",connection="we\"ird\\name\nx"})";
  const std::string c3 = R"({connection_id="c3",connection="gamma"})";
  const std::string want =
      "# HELP hotdata_connection_healthy 1 if the Hotdata API last reported the connection "
      "healthy, else 0; absent before the first answer.\n"
      "# TYPE hotdata_connection_healthy gauge\n"
      "hotdata_connection_healthy" +
      c1 +
      " 1\n"
      "hotdata_connection_healthy" +
      c3 +
      " 0\n"
      "# HELP hotdata_connection_latency_seconds Latency of the connection as the Hotdata API "
      "last reported it, in seconds.\n"
      "# TYPE hotdata_connection_latency_seconds gauge\n"
      "hotdata_connection_latency_seconds" +
      c1 +
      " 0.012\n"
      "hotdata_connection_latency_seconds" +
      c3 +
      " 1.5\n"
      "# HELP hotdata_connection_check_success 1 if the last health check got a valid answer "
      "from the Hotdata API, else 0.\n"
      "# TYPE hotdata_connection_check_success gauge\n"
      "hotdata_connection_check_success" +
      c1 +
      " 1\n"
      "hotdata_connection_check_success" +
      c3 +
      " 0\n"
      "# HELP hotdata_connection_check_duration_seconds Round trip of the last health check as "
      "the monitor saw it, retries included, in seconds.\n"
      "# TYPE hotdata_connection_check_duration_seconds gauge\n"
      "hotdata_connection_check_duration_seconds" +
      c1 +
      " 0.25\n"
      "hotdata_connection_check_duration_seconds" +
      c3 +
      " 5\n"
      "# HELP hotdata_connection_unhealthy_streak Unhealthy answers in a row; failed checks "
      "neither add nor reset.\n"
      "# TYPE hotdata_connection_unhealthy_streak gauge\n"
      "hotdata_connection_unhealthy_streak" +
      c1 +
      " 0\n"
      "hotdata_connection_unhealthy_streak" +
      c2 +
      " 0\n"
      "hotdata_connection_unhealthy_streak" +
      c3 +
      " 3\n"
      "# HELP hotdata_connection_last_check_timestamp_seconds Unix time when the last health "
      "check of the connection finished.\n"
      "# TYPE hotdata_connection_last_check_timestamp_seconds gauge\n"
      "hotdata_connection_last_check_timestamp_seconds" +
      c1 +
      " 1700000000.5\n"
      "hotdata_connection_last_check_timestamp_seconds" +
      c3 +
      " 1700000002\n"
      "# HELP hotdata_connection_tables Tables of the connection, as get_connection last "
      "reported.\n"
      "# TYPE hotdata_connection_tables gauge\n"
      "hotdata_connection_tables" +
      c1 +
      " 12\n"
      "# HELP hotdata_connection_synced_tables Synced tables of the connection, as "
      "get_connection last reported.\n"
      "# TYPE hotdata_connection_synced_tables gauge\n"
      "hotdata_connection_synced_tables" +
      c1 +
      " 10\n"
      "# HELP hotdata_connection_last_purge_timestamp_seconds Unix time of the last successful "
      "cache purge of the connection.\n"
      "# TYPE hotdata_connection_last_purge_timestamp_seconds gauge\n"
      "hotdata_connection_last_purge_timestamp_seconds" +
      c1 +
      " 1699999000\n"
      "# HELP hotdata_connection_info Monitored Hotdata connection; always 1. Its source type is "
      "a label.\n"
      "# TYPE hotdata_connection_info gauge\n"
      R"(hotdata_connection_info{connection_id="c1",connection="alpha",source_type="postgres"} 1)"
      "\n"
      R"(hotdata_connection_info{connection_id="c2",connection="we\"ird\\name\nx",source_type="mysql"} 1)"
      "\n"
      R"(hotdata_connection_info{connection_id="c3",connection="gamma",source_type="snowflake"} 1)"
      "\n"
      "# HELP hotdata_monitor_connections Connections monitored now.\n"
      "# TYPE hotdata_monitor_connections gauge\n"
      "hotdata_monitor_connections 3\n"
      "# HELP hotdata_monitor_round_duration_seconds Duration of the last completed health "
      "round, from its start to its last answer, in seconds.\n"
      "# TYPE hotdata_monitor_round_duration_seconds gauge\n"
      "hotdata_monitor_round_duration_seconds 2.5\n"
      "# HELP hotdata_monitor_last_round_timestamp_seconds Unix time when the last health round "
      "completed.\n"
      "# TYPE hotdata_monitor_last_round_timestamp_seconds gauge\n"
      "hotdata_monitor_last_round_timestamp_seconds 1700000002\n"
      "# HELP hotdata_monitor_rounds_total Health rounds completed.\n"
      "# TYPE hotdata_monitor_rounds_total counter\n"
      "hotdata_monitor_rounds_total 7\n"
      "# HELP hotdata_monitor_rounds_overrun_total Health rounds still running when the next one "
      "was due.\n"
      "# TYPE hotdata_monitor_rounds_overrun_total counter\n"
      "hotdata_monitor_rounds_overrun_total 1\n"
      "# HELP hotdata_monitor_discoveries_total Discoveries (list_connections) finished, "
      "successful or not.\n"
      "# TYPE hotdata_monitor_discoveries_total counter\n"
      "hotdata_monitor_discoveries_total 9\n"
      "# HELP hotdata_monitor_discovery_failures_total Discoveries (list_connections) that "
      "failed.\n"
      "# TYPE hotdata_monitor_discovery_failures_total counter\n"
      "hotdata_monitor_discovery_failures_total 2\n"
      "# HELP hotdata_monitor_last_discovery_timestamp_seconds Unix time of the last successful "
      "discovery of the connection list.\n"
      "# TYPE hotdata_monitor_last_discovery_timestamp_seconds gauge\n"
      "hotdata_monitor_last_discovery_timestamp_seconds 1699999999.75\n"
      "# HELP hotdata_monitor_check_interval_seconds Configured interval between health rounds "
      "(scheduler.interval), in seconds.\n"
      "# TYPE hotdata_monitor_check_interval_seconds gauge\n"
      "hotdata_monitor_check_interval_seconds 30\n"
      "# HELP hotdata_monitor_discovery_interval_seconds Configured interval between discoveries "
      "(scheduler.discovery_interval), in seconds.\n"
      "# TYPE hotdata_monitor_discovery_interval_seconds gauge\n"
      "hotdata_monitor_discovery_interval_seconds 300\n"
      "# HELP hotdata_monitor_shard_info The shard of the connections this instance monitors "
      "(scheduler.shard): shard is its index, shards the count; always 1.\n"
      "# TYPE hotdata_monitor_shard_info gauge\n"
      "hotdata_monitor_shard_info{shard=\"2\",shards=\"4\"} 1\n";
  EXPECT_EQ(Render(s), want);
}

TEST(FleetMetricsTest, BeforeFirstAnswerOnlyAlwaysKnownSeriesAppear) {
  FleetSnapshot s;
  s.connections = {Fresh()};
  const std::string out = Render(s);
  for (const char* absent :
       {"hotdata_connection_healthy", "hotdata_connection_latency_seconds",
        "hotdata_connection_check_success", "hotdata_connection_check_duration_seconds",
        "hotdata_connection_last_check_timestamp_seconds", "hotdata_connection_tables",
        "hotdata_connection_synced_tables", "hotdata_connection_last_purge_timestamp_seconds",
        "hotdata_monitor_round_duration_seconds", "hotdata_monitor_last_round_timestamp_seconds",
        "hotdata_monitor_last_discovery_timestamp_seconds"}) {
    EXPECT_EQ(out.find(std::string(absent) + ' '), std::string::npos) << absent;
    EXPECT_EQ(out.find(std::string(absent) + '{'), std::string::npos) << absent;
  }
  EXPECT_NE(out.find("hotdata_connection_unhealthy_streak{connection_id=\"c2\""),
            std::string::npos);
  EXPECT_NE(out.find("\nhotdata_monitor_connections 1\n"), std::string::npos);
  EXPECT_NE(out.find("\nhotdata_monitor_rounds_total 0\n"), std::string::npos);
}

TEST(FleetMetricsTest, RemovedConnectionIsNotRendered) {
  FleetSnapshot before;
  before.connections = {Healthy(), FailedCheck()};
  ASSERT_NE(Render(before).find("connection_id=\"c3\""), std::string::npos);

  FleetSnapshot after;
  after.connections = {Healthy()};
  const std::string out = Render(after);
  EXPECT_EQ(out.find("c3"), std::string::npos);
  EXPECT_EQ(out.find("gamma"), std::string::npos);
  EXPECT_NE(out.find("connection_id=\"c1\""), std::string::npos);
}

TEST(FleetMetricsTest, EmptyFleetStillReportsMonitorFamilies) {
  const std::string out = Render(FleetSnapshot{});
  EXPECT_EQ(out.find("hotdata_connection_"), std::string::npos);
  EXPECT_NE(out.find("\nhotdata_monitor_connections 0\n"), std::string::npos);
  // Before any discovery: the denominator, the configured intervals and the shard are known.
  EXPECT_NE(out.find("\nhotdata_monitor_discoveries_total 0\n"), std::string::npos);
  EXPECT_NE(out.find("\nhotdata_monitor_check_interval_seconds "), std::string::npos);
  EXPECT_NE(out.find("\nhotdata_monitor_discovery_interval_seconds "), std::string::npos);
  EXPECT_NE(out.find("\nhotdata_monitor_shard_info{shard=\"0\",shards=\"1\"} 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace hdm::metrics
