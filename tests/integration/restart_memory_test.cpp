// What the daemon remembers across a restart besides its cooldowns: the audit entries that
// GET /api/v1/actions serves, and each connection's last purge
// (hotdata_connection_last_purge_timestamp_seconds, `last_purge` in /api/v1/status). After a
// clean stop, and after an abrupt one that leaves the state file as the write-ahead save wrote
// it while the purge was in flight.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "integration/harness.h"
#include "policy/audit_log.h"

namespace hdm::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kPolicy[] = R"(policies:
  - name: hourly-refresh
    match: { name: ["prod-pg"] }
    when: { event: schedule, every: 2s }
    action: { purge: connection }
    cooldown: 2h
)";
constexpr char kPgCache[] = "/v1/connections/conn_pg/cache";
constexpr char kSuccesses[] =
    "hotdata_policy_actions_total{policy=\"hourly-refresh\",action=\"purge_connection\",result="
    "\"success\"}";
constexpr char kSuppressed[] =
    "hotdata_policy_suppressed_total{policy=\"hourly-refresh\",reason=\"cooldown\"}";
constexpr char kLastPurge[] =
    "hotdata_connection_last_purge_timestamp_seconds{connection_id=\"conn_pg\",connection="
    "\"prod-pg\"}";

json Actions(DaemonHarness& h) { return json::parse(h.Get("/api/v1/actions").body)["actions"]; }

// conn_pg's `last_purge` in /api/v1/status: an RFC 3339 time or null.
json PgLastPurge(DaemonHarness& h) {
  const json status = json::parse(h.Get("/api/v1/status").body);
  for (const json& c : status["connections"]) {
    if (c["id"] == "conn_pg") return c["last_purge"];
  }
  ADD_FAILURE() << "conn_pg is not in /api/v1/status";
  return nullptr;
}

size_t CountOutcome(const json& actions, const std::string& outcome) {
  return static_cast<size_t>(std::count_if(actions.begin(), actions.end(),
                                           [&](const json& a) { return a["outcome"] == outcome; }));
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(RestartMemoryTest, ActionsAndTheLastPurgeComeBackAfterACleanRestart) {
  DaemonHarness h(kPolicy);
  ASSERT_TRUE(WaitFor([&] {
    const std::string m = h.Metrics();
    return SeriesValue(m, kSuccesses) == 1 && SeriesValue(m, kLastPurge).has_value();
  })) << h.Metrics();
  const double last_purge = *SeriesValue(h.Metrics(), kLastPurge);
  const json last_purge_status = PgLastPurge(h);
  ASSERT_TRUE(last_purge_status.is_string());
  const json before = Actions(h);

  h.RestartDaemon();
  // Served at once, before the first discovery: what the last run served, as its oldest
  // entries (newer ones may follow: the schedule goes on, held back by the cooldown).
  const json after = Actions(h);
  ASSERT_GE(after.size(), before.size()) << after;
  EXPECT_EQ(json(std::vector<json>(after.end() - static_cast<std::ptrdiff_t>(before.size()),
                                   after.end())),
            before)
      << after;
  EXPECT_EQ(CountOutcome(after, "success"), 1u) << after;
  EXPECT_EQ(SeriesValue(h.Metrics(), kSuccesses), 0) << "counted by the run that made it";

  // The last purge, once discovery lists conn_pg again.
  ASSERT_TRUE(WaitFor([&] { return SeriesValue(h.Metrics(), kLastPurge).has_value(); }))
      << h.Metrics();
  EXPECT_NEAR(*SeriesValue(h.Metrics(), kLastPurge), last_purge, 0.001);
  EXPECT_EQ(PgLastPurge(h), last_purge_status);
  EXPECT_EQ(h.fake().CountRequests("DELETE", kPgCache), 1u);
}

TEST(RestartMemoryTest, APurgeInFlightAtAnAbruptStopComesBackWithAnUnknownOutcome) {
  DaemonHarness h(kPolicy);
  // The DELETE is held for 400 ms (the API timeout is 500 ms): the state file meanwhile is what
  // a kill -9 at that moment would leave.
  h.fake().Script("DELETE", kPgCache, {.status = 204, .delay = 400ms});
  ASSERT_TRUE(WaitFor([&] { return h.fake().CountRequests("DELETE", kPgCache) == 1; }));
  const auto state_path = h.dir().path() / "state.json";
  const std::string written_ahead = ReadFile(state_path);
  ASSERT_NE(written_ahead.find("\"in_flight\": true"), std::string::npos) << written_ahead;
  ASSERT_TRUE(WaitFor([&] { return SeriesValue(h.Metrics(), kSuccesses) == 1; }));

  // Stop without the final save: then put back the file as the crash left it.
  h.daemon().Stop();
  std::ofstream(state_path, std::ios::binary | std::ios::trunc) << written_ahead;
  h.RestartDaemon();  // its Stop() of the stopped daemon saves nothing

  // The oldest entry (held-back firings of the new run may come before it).
  const json actions = Actions(h);
  ASSERT_FALSE(actions.empty());
  const json& lost = actions.back();
  EXPECT_EQ(lost["outcome"], "unknown") << actions;
  EXPECT_EQ(lost["policy"], "hourly-refresh");
  EXPECT_EQ(lost["connection_id"], "conn_pg");
  EXPECT_EQ(lost["detail"], policy::kUnknownOutcomeDetail);
  // Its cooldown was on disk before it was sent: the schedule is held back, nothing repeats.
  ASSERT_TRUE(WaitFor([&] { return SeriesValue(h.Metrics(), kSuppressed).value_or(0) >= 1; }));
  EXPECT_EQ(h.fake().CountRequests("DELETE", kPgCache), 1u);
  const json later = Actions(h);
  EXPECT_EQ(CountOutcome(later, "unknown"), 1u) << later;
  EXPECT_EQ(CountOutcome(later, "success"), 0u) << later;
  // Its success was never recorded, so neither is a last purge.
  EXPECT_TRUE(PgLastPurge(h).is_null());
  EXPECT_FALSE(SeriesValue(h.Metrics(), kLastPurge).has_value());
}

}  // namespace
}  // namespace hdm::testing
