// Feeds a realistic exposition to `promtool check metrics`, which parses it and runs the
// Prometheus naming lints.
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "metrics/metrics.h"

namespace hdm {
namespace {

constexpr const char* kPromtool = "/usr/bin/promtool";

FleetSnapshot RealisticSnapshot(int connections) {
  const SysTime t0 = SysTime(std::chrono::milliseconds(1'700'000'000'123));
  FleetSnapshot s;
  s.taken = t0;
  s.discovered = true;
  for (int i = 0; i < connections; ++i) {
    ConnectionState c;
    const std::string n = std::to_string(i);
    c.info = {"conn_" + n, i == 7 ? "odd \"name\" with \\ and\nnewline" : "warehouse-" + n,
              i % 3 == 0 ? "postgres" : "snowflake"};
    c.table_count = 40 + i;
    c.synced_table_count = 38 + i;
    c.healthy = i % 5 != 0;
    c.latency_seconds = 0.001 * i;
    c.last_answer = t0;
    c.checked = true;
    c.check_success = i % 11 != 0;
    c.check_duration_seconds = 0.0375 + i;
    c.last_check = t0 - std::chrono::milliseconds(17 * i);
    c.consecutive_failures = i % 5 == 0 ? 4 : 0;
    c.last_purge = t0 - std::chrono::hours(i);
    s.connections.push_back(std::move(c));
  }
  s.last_round_end = t0;
  s.last_round_duration_seconds = 4.25;
  s.rounds_completed = 120;
  s.rounds_overrun = 2;
  s.discoveries = 12;
  s.discoveries_failed = 1;
  s.last_discovery = t0 - std::chrono::seconds(30);
  s.check_interval_seconds = 30;
  s.discovery_interval_seconds = 300;
  s.shard_index = 1;
  s.shard_count = 2;
  for (int i = 0; i < connections; i += 10) {
    TableState t;
    t.connection_id = s.connections[i].info.id;
    t.connection_name = s.connections[i].info.name;
    t.schema = "public";
    t.table = "orders";
    t.fetched = t.ok = true;
    t.row_count = 1000 + i;
    t.synced_at = t0 - std::chrono::hours(i);
    s.tables.push_back(std::move(t));
  }
  return s;
}

TEST(PromtoolTest, RealisticExpositionPassesCheckMetrics) {
  if (::access(kPromtool, X_OK) != 0) GTEST_SKIP() << kPromtool << " not installed";
  Metrics metrics;
  metrics.SetConfigReload(true, SysTime(std::chrono::seconds(1'700'000'000)));
  metrics.OnRequest(hotdata::Operation::kListConnections, "200", 0.12);
  metrics.OnRequest(hotdata::Operation::kCheckConnectionHealth, "200", 0.03);
  metrics.OnRequest(hotdata::Operation::kCheckConnectionHealth, "503", 0.5);
  metrics.OnRequest(hotdata::Operation::kCheckConnectionHealth, "timeout", 10);
  metrics.OnRequest(hotdata::Operation::kPurgeConnectionCache, "connection_error", 0.001);
  metrics.OnRequest(hotdata::Operation::kGetConnection, "invalid_response", 0.2);

  const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                     ("hdm_promtool_" + std::to_string(::getpid()) + ".prom");
  PolicyCounters policy;
  policy.actions[{"purge-after-outage", "purge_connection", "success"}] = 3;
  policy.suppressed[{"purge-after-outage", "budget"}] = 1;
  policy.budget_limit = 30;
  policy.budget_remaining = 27;
  policy.table_stale = {{.match = {.source_type = {"postgres"}}, .max_age = std::chrono::hours(6)}};
  std::ofstream(file) << metrics.Render(RealisticSnapshot(50), &policy);

  const std::string cmd = std::string(kPromtool) + " check metrics < " + file.string() + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  std::array<char, 4096> buf;
  while (size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  std::filesystem::remove(file);

  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "");
}

}  // namespace
}  // namespace hdm
