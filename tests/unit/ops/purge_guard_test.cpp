#include "ops/purge_guard.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "policy/fingerprint.h"

namespace hdm::ops {
namespace {

namespace fs = std::filesystem;
using policy::PolicyKey;
using policy::PolicyState;
using policy::SuppressReason;
using policy::TargetKey;
using std::chrono::minutes;

const SysTime kT0 = SysTime(std::chrono::seconds(1'700'000'000));

Config MakeConfig(const std::string& extra) {
  const fs::path path =
      fs::temp_directory_path() / ("hdm-guard-config-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << "api: { base_url: http://127.0.0.1:1 }\n" << extra;
  auto config = LoadConfig(path.string());
  fs::remove(path);
  EXPECT_TRUE(config.has_value()) << (config ? "" : config.error().front().ToString());
  return config ? *config : Config{};
}

constexpr char kPolicies[] = R"(
safety: { max_purges_per_hour: 2 }
tables: [ { connection: prod-pg, schema: public, table: orders } ]
policies:
  - { name: conn, match: { name: ["prod-*"] }, when: { event: recovered, after_failures: 2 },
      action: { purge: connection }, cooldown: 30m }
  - { name: other, match: { name: ["dev-*"] }, when: { event: recovered, after_failures: 2 },
      action: { purge: connection }, cooldown: 30m }
  - { name: tab, when: { event: table_stale, max_age: 6h }, action: { purge: table }, cooldown: 1h }
)";

const hotdata::ConnectionInfo kProd{.id = "c1", .name = "prod-pg", .source_type = "postgres"};
const TargetKey kConn{"c1", "", ""};
const TargetKey kTable{"c1", "public", "orders"};

TEST(PurgeGuardTest, RecordSpendsBudgetAndStartsTheCooldownsOfMatchingPolicies) {
  const Config config = MakeConfig(kPolicies);
  PolicyState state;
  const auto changes = RecordManualPurge(config, state, kConn, kProd, kT0);
  EXPECT_EQ(state.budget_spends, std::vector<SysTime>{kT0});
  ASSERT_EQ(state.cooldown_until.size(), 1u) << "not `other` (no match), not `tab` (tables)";
  EXPECT_EQ(state.cooldown_until.at(PolicyKey{"conn", kConn}), kT0 + minutes(30));
  ASSERT_EQ(changes.size(), 1u);

  const auto refusal = CheckManualPurge(config, state, kConn, kT0 + minutes(1));
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->reason, SuppressReason::kCooldown);
  EXPECT_EQ(refusal->detail, "cooldown of policy conn until 2023-11-14T22:43:20Z");
  const auto covered = CheckManualPurge(config, state, kTable, kT0 + minutes(1));
  ASSERT_TRUE(covered.has_value()) << "a connection purge covers its tables";
  EXPECT_FALSE(CheckManualPurge(config, state, kConn, kT0 + minutes(30)).has_value());

  RestoreCooldowns(state, changes);
  EXPECT_TRUE(state.cooldown_until.empty());
  EXPECT_EQ(state.budget_spends.size(), 1u) << "the request was sent: it stays spent";
}

TEST(PurgeGuardTest, RestoreLeavesACooldownThatMovedOnAndGivesBackAnEarlierOne) {
  const Config config = MakeConfig(kPolicies);
  PolicyState state;
  state.cooldown_until[PolicyKey{"conn", kConn}] = kT0 - minutes(1);  // expired, still listed
  auto changes = RecordManualPurge(config, state, kConn, kProd, kT0);
  RestoreCooldowns(state, changes);
  EXPECT_EQ(state.cooldown_until.at(PolicyKey{"conn", kConn}), kT0 - minutes(1));

  changes = RecordManualPurge(config, state, kConn, kProd, kT0);
  state.cooldown_until[PolicyKey{"conn", kConn}] = kT0 + minutes(90);  // the daemon's, later
  RestoreCooldowns(state, changes);
  EXPECT_EQ(state.cooldown_until.at(PolicyKey{"conn", kConn}), kT0 + minutes(90));
}

TEST(PurgeGuardTest, BudgetPermanentMarkAndMaintenanceRefuse) {
  Config config = MakeConfig(kPolicies);
  PolicyState state;
  state.budget_spends = {kT0 - minutes(61), kT0 - minutes(30), kT0 - minutes(10)};
  auto refusal = CheckManualPurge(config, state, kTable, kT0);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->reason, SuppressReason::kBudget);
  EXPECT_EQ(refusal->detail, "budget spent: 2 purges in the last hour (max 2)");

  state.budget_spends.clear();
  state.permanent[kConn] = {.policy = "conn", .at = kT0, .message = "HTTP 400 BAD_REQUEST: no"};
  EXPECT_FALSE(CheckManualPurge(config, state, kConn, kT0).has_value())
      << "a mark made under another config does not count";
  state.permanent_fingerprint = policy::ConfigFingerprint(config);
  refusal = CheckManualPurge(config, state, kConn, kT0);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->reason, SuppressReason::kPermanentError);

  config = MakeConfig("safety: { maintenance: [ { cron: \"0 2 * * *\", duration: 2h } ] }\n");
  const SysTime three_am =
      SysTime(std::chrono::sys_days(std::chrono::year(2024) / std::chrono::January / 1) +
              std::chrono::hours(3));
  refusal = CheckManualPurge(config, PolicyState{}, kConn, three_am);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->reason, SuppressReason::kMaintenance);
  EXPECT_FALSE(
      CheckManualPurge(config, PolicyState{}, kConn, three_am + std::chrono::hours(2)).has_value());
}

TEST(PurgeGuardTest, UpdateSharedStateKeepsOtherSectionsAndReadsBack) {
  const fs::path dir = fs::temp_directory_path() / ("hdm-guard-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "state.json").string();
  auto empty = ReadSharedState(path);
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->sections.empty());

  ASSERT_TRUE(UpdateSharedState(path, kT0, [](SharedState& s) {
                s.sections["other"] = {{"kept", true}};
                s.policy.budget_spends.push_back(kT0);
                return true;
              }).has_value());
  ASSERT_TRUE(UpdateSharedState(path, kT0, [](SharedState&) { return false; }).has_value());
  auto read = ReadSharedState(path);
  ASSERT_TRUE(read.has_value()) << read.error();
  EXPECT_EQ(read->sections["other"]["kept"], true);
  EXPECT_EQ(read->policy.budget_spends, std::vector<SysTime>{kT0});

  std::ofstream(path) << R"({"version": 2})";
  read = ReadSharedState(path);
  ASSERT_FALSE(read.has_value());
  EXPECT_NE(read.error().find("not a state file of version 1"), std::string::npos) << read.error();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace hdm::ops
