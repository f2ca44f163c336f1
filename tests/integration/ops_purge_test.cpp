// `hotdata-monitor connections purge` end to end: confirmation, the daemon's safeties in the
// shared state file, --force, the API's errors, the audit, and a running daemon respecting it.
#include <nlohmann/json.hpp>

#include "integration/ops_test_support.h"

namespace hdm::testing {
namespace {

using nlohmann::json;

constexpr char kPolicies[] =
    "policies:\n"
    "  - name: p\n"
    "    when: { event: recovered, after_failures: 3 }\n"
    "    action: { purge: connection }\n"
    "    cooldown: 30m\n"
    "  - name: t\n"
    "    when: { event: schedule, every: 6h }\n"
    "    action: { purge: table, tables: [public.orders] }\n"
    "    cooldown: 1h\n";

class OpsPurgeTest : public OpsTest {
 protected:
  void SetUp() override {
    OpsTest::SetUp();
    fake::FakeConnection c = *fake_.Get("c1");
    c.tables = {{.schema = "public", .table = "orders"}, {.schema = "eu", .table = "Order Items"}};
    fake_.Upsert(c);
    WriteConfig(kPolicies);
  }
  size_t ConnectionPurges(const std::string& id) {
    return fake_.CountRequests("DELETE", "/v1/connections/" + id + "/cache");
  }
  json State() { return json::parse(ReadWhole(StatePath())); }
};

TEST_F(OpsPurgeTest, AsksAndOnlyYesPurgesThenRecordsAndAudits) {
  OpsRun r = Run("purge prod-pg", "N\n");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_TRUE(Contains(r.err, "Purge the cache of prod-pg (c1)?")) << r.err;
  EXPECT_EQ(ConnectionPurges("c1"), 0u);
  EXPECT_EQ(Run("purge prod-pg", "").exit_code, 4) << "end of input is no";

  r = Run("purge prod-pg", "y\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "purged the cache of prod-pg (c1)")) << r.out;
  EXPECT_EQ(ConnectionPurges("c1"), 1u);
  const json state = State();
  EXPECT_EQ(state["policy"]["budget_spends_ms"].size(), 1u);
  ASSERT_EQ(state["policy"]["cooldowns"].size(), 1u) << "policy p purges connections";
  EXPECT_EQ(state["policy"]["cooldowns"][0]["policy"], "p");
  ASSERT_EQ(state["manual_actions"].size(), 1u);
  EXPECT_EQ(state["manual_actions"][0]["policy"], "manual");
  EXPECT_EQ(state["manual_actions"][0]["outcome"], "success");
  EXPECT_TRUE(Contains(state["manual_actions"][0]["trigger"], "operator command line (user "));
}

TEST_F(OpsPurgeTest, ACooldownRefusesWithExitFourAndForceOverrides) {
  ASSERT_EQ(Run("purge c1 --yes").exit_code, 0);
  OpsRun r = Run("purge prod-pg --yes");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_TRUE(Contains(r.err, "refused (cooldown): cooldown of policy p until")) << r.err;
  EXPECT_EQ(ConnectionPurges("c1"), 1u);
  // A connection purge covers its tables.
  r = Run("purge c1 --table public.orders --yes");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_TRUE(Contains(r.err, "a purge of the whole connection")) << r.err;

  r = Run("purge prod-pg --yes --force");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ConnectionPurges("c1"), 2u);
  const json actions = State()["manual_actions"];
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_TRUE(Contains(actions[1]["trigger"], "--force past cooldown of policy p")) << actions;
}

TEST_F(OpsPurgeTest, TheHourlyBudgetRefusesAndForceStillCounts) {
  WriteConfig(std::string("safety: { max_purges_per_hour: 1 }\n") + kPolicies);
  ASSERT_EQ(Run("purge c1 --yes").exit_code, 0);
  OpsRun r = Run("purge c2 --yes");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_TRUE(Contains(r.err, "refused (budget): budget spent: 1 purges in the last hour (max 1)"))
      << r.err;
  EXPECT_EQ(ConnectionPurges("c2"), 0u);
  ASSERT_EQ(Run("purge c2 --yes --force").exit_code, 0);
  EXPECT_EQ(ConnectionPurges("c2"), 1u);
  EXPECT_EQ(State()["policy"]["budget_spends_ms"].size(), 2u);
}

TEST_F(OpsPurgeTest, AMaintenanceWindowRefuses) {
  WriteConfig(std::string("safety: { maintenance: [ { cron: \"* * * * *\", duration: 2m } ] }\n") +
              kPolicies);
  OpsRun r = Run("purge c1 --yes");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_TRUE(Contains(r.err, "refused (maintenance)")) << r.err;
  EXPECT_EQ(ConnectionPurges("c1"), 0u);
}

TEST_F(OpsPurgeTest, ATablePurgeEncodesTheNameAndStartsTheTablePolicysCooldown) {
  OpsRun r = Run("purge c1 --table 'eu.Order Items' --yes");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "prod-pg (c1) table eu.\"Order Items\"")) << r.out;
  EXPECT_EQ(fake_.CountRequests("DELETE", "/v1/connections/c1/tables/eu/Order%20Items/cache"), 1u);
  EXPECT_TRUE(State()["policy"]["cooldowns"].empty()) << "policy t purges only public.orders";
  ASSERT_EQ(Run("purge c1 --table public.orders --yes").exit_code, 0);
  const json cooldowns = State()["policy"]["cooldowns"];
  ASSERT_EQ(cooldowns.size(), 1u);
  EXPECT_EQ(cooldowns[0]["policy"], "t");
  EXPECT_EQ(cooldowns[0]["table"], "orders");
  EXPECT_EQ(Run("purge c1 --table public.orders --yes").exit_code, 4);
  EXPECT_EQ(Run("purge c1 --yes").exit_code, 0)
      << "a table's cooldown does not hold its connection";
}

TEST_F(OpsPurgeTest, ApiErrorsExitThreeAreAuditedAndGiveTheCooldownBack) {
  fake::FakeConnection managed{.id = "m1", .name = "managed", .source_type = "managed"};
  fake_.Upsert(managed);
  OpsRun r = Run("purge managed --yes");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(Contains(r.err, "HTTP 400 BAD_REQUEST")) << r.err;

  fake::FakeConnection c2 = *fake_.Get("c2");
  c2.backs_default_catalog = true;
  fake_.Upsert(c2);
  r = Run("purge c2 --yes");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(Contains(r.err, "HTTP 409 CONFLICT")) << r.err;

  r = Run("purge c1 --table public.missing --yes");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(Contains(r.err, "HTTP 404 NOT_FOUND: Table")) << r.err;

  fake_.Script("DELETE", "/v1/connections/c1/cache",
               {.status = 503,
                .body = R"({"error":{"code":"SERVICE_UNAVAILABLE","message":"try later"}})",
                .times = 1});
  r = Run("purge c1 --yes");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(Contains(r.err, "HTTP 503 SERVICE_UNAVAILABLE: try later")) << r.err;
  EXPECT_EQ(ConnectionPurges("c1"), 1u) << "a purge is never retried blindly";

  const json state = State();
  EXPECT_TRUE(state["policy"]["cooldowns"].empty()) << "failed purges start no cooldown";
  EXPECT_EQ(state["policy"]["budget_spends_ms"].size(), 4u) << "every request sent counts";
  ASSERT_EQ(state["manual_actions"].size(), 4u);
  for (const json& a : state["manual_actions"]) EXPECT_EQ(a["outcome"], "failed") << a;
  EXPECT_EQ(Run("purge c1 --yes").exit_code, 0) << "not held by a cooldown";
}

TEST_F(OpsPurgeTest, AnUnusableStateFileRefusesUnlessForced) {
  dir_.Write("state.json", "{ not json");
  OpsRun r = Run("purge c1 --yes");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "state.json: not a JSON object")) << r.err;
  EXPECT_EQ(ConnectionPurges("c1"), 0u);
  r = Run("purge c1 --yes --force");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.err, "purging without recording it")) << r.err;
  EXPECT_EQ(ReadWhole(StatePath()), "{ not json") << "left for the daemon to set aside";
}

// The daemon, running, adopts the CLI's cooldown and budget before deciding, keeps them when it
// saves, and shows the manual purge in its audit log.
TEST(OpsDaemonTest, ARunningDaemonRespectsAndKeepsACommandLinePurge) {
  DaemonHarness h(
      "policies:\n"
      "  - name: sf-unhealthy\n"
      "    match: { name: [analytics-sf] }\n"
      "    when: { event: unhealthy, after_failures: 3 }\n"
      "    action: { purge: connection }\n"
      "    cooldown: 30m\n");
  const std::string config = (h.dir().path() / "config.yaml").string();
  const std::string cmd = std::string(HDM_BINARY_DIR) + "/hotdata-monitor --config " + config +
                          " connections purge analytics-sf --yes >/dev/null 2>&1 </dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ASSERT_EQ(h.fake().CountRequests("DELETE", "/v1/connections/conn_sf/cache"), 1u);

  // The episode reaches 3 unhealthy answers a few rounds later: held by the CLI's cooldown.
  ASSERT_TRUE(WaitFor([&] {
    return Contains(h.Get("/api/v1/actions").body, "\"reason\":\"cooldown\"");
  })) << h.Get("/api/v1/actions").body;
  EXPECT_EQ(h.fake().CountRequests("DELETE", "/v1/connections/conn_sf/cache"), 1u);
  const json actions = json::parse(h.Get("/api/v1/actions").body)["actions"];
  bool manual_seen = false;
  for (const json& a : actions) manual_seen = manual_seen || a["policy"] == "manual";
  EXPECT_TRUE(manual_seen) << actions;

  // The daemon saved its decision without losing the CLI's records.
  h.daemon().Stop();
  const json state = json::parse(ReadWhole((h.dir().path() / "state.json").string()));
  EXPECT_EQ(state["manual_actions"].size(), 1u) << state;
  EXPECT_EQ(state["policy"]["budget_spends_ms"].size(), 1u) << state;
}

}  // namespace
}  // namespace hdm::testing
