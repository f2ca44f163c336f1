#include "policy/audit_log.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace hdm::policy {
namespace {

const SysTime kT0 = SysTime(std::chrono::seconds(1'700'000'000));

AuditEntry Entry(int i, AuditOutcome outcome = AuditOutcome::kSuccess) {
  AuditEntry e{.time = kT0 + std::chrono::seconds(i),
               .policy = "p" + std::to_string(i),
               .action = PurgeKind::kConnection,
               .target = {.connection_id = "c1", .connection_name = "prod-a"},
               .trigger = "t",
               .outcome = outcome};
  if (outcome == AuditOutcome::kSuppressed) e.reason = SuppressReason::kCooldown;
  return e;
}

TEST(AuditLogTest, KeepsTheMostRecentEntriesUpToCapacityNewestFirst) {
  AuditLog log(3);
  for (int i = 0; i < 5; ++i) log.Add(Entry(i));
  const auto entries = log.Entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].policy, "p4");
  EXPECT_EQ(entries[2].policy, "p2");
  const auto j = nlohmann::json::parse(log.ToJson());
  ASSERT_EQ(j["actions"].size(), 3u);
  EXPECT_EQ(j["actions"][0]["policy"], "p4");
}

TEST(AuditLogTest, EntryJsonNamesPolicyTargetTriggerReasonAndOutcome) {
  AuditEntry e = Entry(0, AuditOutcome::kSuppressed);
  e.target.table = TableRef{.schema = "eu.sales", .table = "Order Items"};
  e.action = PurgeKind::kTable;
  e.detail = "cooldown until 2023-11-14T22:43:20Z";
  const nlohmann::json j = e.ToJson();
  EXPECT_EQ(j["time"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(j["policy"], "p0");
  EXPECT_EQ(j["action"], "purge_table");
  EXPECT_EQ(j["connection_id"], "c1");
  EXPECT_EQ(j["connection"], "prod-a");
  EXPECT_EQ(j["schema"], "eu.sales");
  EXPECT_EQ(j["table"], "Order Items");
  EXPECT_EQ(j["target"], "prod-a (c1) table \"eu.sales\".\"Order Items\"");
  EXPECT_EQ(j["trigger"], "t");
  EXPECT_EQ(j["outcome"], "suppressed");
  EXPECT_EQ(j["reason"], "cooldown");
  EXPECT_EQ(j["detail"], "cooldown until 2023-11-14T22:43:20Z");
  EXPECT_EQ(j["retry"], false);
  EXPECT_EQ(Entry(1).ToJson()["reason"], nullptr);
  EXPECT_FALSE(Entry(1).ToJson().contains("table"));
}

TEST(AuditLogTest, CountsActionsAndSuppressionsByLabel) {
  AuditLog log(1);  // counters are not bounded by the ring
  log.Add(Entry(0, AuditOutcome::kSuccess));
  log.Add(Entry(0, AuditOutcome::kSuccess));
  log.Add(Entry(0, AuditOutcome::kDryRun));
  log.Add(Entry(0, AuditOutcome::kFailed));
  log.Add(Entry(0, AuditOutcome::kSuppressed));
  const AuditCounters c = log.Counters();
  EXPECT_EQ((c.actions.at({"p0", "purge_connection", "success"})), 2u);
  EXPECT_EQ((c.actions.at({"p0", "purge_connection", "dry_run"})), 1u);
  EXPECT_EQ((c.actions.at({"p0", "purge_connection", "failed"})), 1u);
  EXPECT_EQ((c.suppressed.at({"p0", "cooldown"})), 1u);
}

TEST(AuditLogTest, UnknownOutcomesAreKeptButNotCounted) {
  AuditLog log;
  log.Add(Entry(0, AuditOutcome::kUnknown));
  EXPECT_EQ(log.Entries().size(), 1u);
  EXPECT_EQ(log.Entries()[0].ToJson()["outcome"], "unknown");
  EXPECT_TRUE(log.Counters().actions.empty()) << "result is success|failed|dry_run only";
}

TEST(AuditLogTest, RestoredEntriesGoBeforeTheNewOnesUncountedUpToCapacity) {
  AuditLog log(3);
  log.Add(Entry(10));
  log.Restore({Entry(1), Entry(2), Entry(3)});
  const auto entries = log.Entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].policy, "p10");
  EXPECT_EQ(entries[1].policy, "p3");
  EXPECT_EQ(entries[2].policy, "p2") << "the oldest restored one is dropped";
  const auto newest = log.Entries(2);  // the status page's latest decisions
  ASSERT_EQ(newest.size(), 2u);
  EXPECT_EQ(newest[0].policy, "p10");
  EXPECT_EQ(newest[1].policy, "p3");
  EXPECT_EQ((log.Counters().actions.at({"p10", "purge_connection", "success"})), 1u);
  EXPECT_EQ(log.Counters().actions.size(), 1u) << "restored entries were counted by their run";
}

TEST(AuditLogTest, APerformDecisionWithoutItsOutcomeIsUnknown) {
  const Decision d{.policy = "p",
                   .target = {.connection_id = "c1", .connection_name = "prod-a"},
                   .trigger = "t",
                   .verdict = Verdict::kPerform};
  const AuditEntry e = EntryFor(d, kT0);
  EXPECT_EQ(e.outcome, AuditOutcome::kUnknown);
  EXPECT_EQ(e.detail, kUnknownOutcomeDetail);
}

TEST(AuditLogTest, InvalidUtf8InNamesDoesNotThrow) {
  AuditLog log;
  AuditEntry e = Entry(0);
  e.target.connection_name = "bad\xff";
  log.Add(e);
  std::string out;
  EXPECT_NO_THROW(out = log.ToJson());
  EXPECT_TRUE(nlohmann::json::accept(out));
}

}  // namespace
}  // namespace hdm::policy
