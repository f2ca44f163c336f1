// The state file's "audit" section: round trip, files from before it, damaged sections, bounds.
#include "policy/audit_section.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "engine_fixture.h"
#include "state/state_file.h"

namespace hdm::policy::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// An entry as a real run makes them: names and triggers of a typical length.
AuditEntry Typical(int i) {
  AuditEntry e{.time = kT0 + std::chrono::seconds(i),
               .policy = "refresh-after-recovery",
               .target = {.connection_id = "conn_01HF3K9Q2W8Z" + std::to_string(i % 50),
                          .connection_name = "prod-postgres-eu-" + std::to_string(i % 50)},
               .trigger = "recovered after 6 unhealthy answers (29s down)"};
  switch (i % 4) {
    case 0:
      e.outcome = AuditOutcome::kSuccess;
      break;
    case 1:
      e.outcome = AuditOutcome::kSuppressed;
      e.reason = SuppressReason::kCooldown;
      e.detail = "cooldown until 2023-11-14T22:43:20Z";
      break;
    case 2:
      e.outcome = AuditOutcome::kFailed;
      e.detail =
          "HTTP 503 SERVICE_UNAVAILABLE: try later (transient: retried once, one interval "
          "later)";
      e.action = PurgeKind::kTable;
      e.target.table = TableRef{.schema = "public", .table = "orders"};
      break;
    default:
      e.outcome = AuditOutcome::kDryRun;
      e.retry = true;
      break;
  }
  return e;
}

std::vector<json> Json(const std::vector<AuditEntry>& entries) {
  std::vector<json> out;
  for (const AuditEntry& e : entries) out.push_back(e.ToJson());
  return out;
}

AuditSection Sample() {
  AuditEntry in_flight = Typical(8);
  in_flight.outcome = AuditOutcome::kUnknown;
  in_flight.detail = kUnknownOutcomeDetail;
  return AuditSection{.entries = {Typical(0), Typical(1), Typical(2), Typical(3)},
                      .in_flight = {in_flight},
                      .last_purge = {{"c1", kT0 + std::chrono::milliseconds(1234)}},
                      .manual_ids = {"1700000000000-42"}};
}

TEST(AuditSectionTest, RoundTripsEntriesInFlightPurgesLastPurgesAndManualIds) {
  const AuditSection sample = Sample();
  const json sections = {{kAuditSection, AuditSectionToJson(sample, 1000)}};
  const auto back = AuditSectionFrom(sections);
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(Json(back->entries), Json(sample.entries)) << "the same entries, in order";
  EXPECT_EQ(Json(back->in_flight), Json(sample.in_flight));
  EXPECT_EQ(back->in_flight[0].outcome, AuditOutcome::kUnknown);
  EXPECT_EQ(back->last_purge, sample.last_purge) << "to the millisecond";
  EXPECT_EQ(back->manual_ids, sample.manual_ids);
}

TEST(AuditSectionTest, EntriesAreStoredWithoutDerivedOrEmptyFields) {
  const json j = AuditSectionToJson(Sample(), 1000);
  const json& success = j["entries"][0];
  EXPECT_FALSE(success.contains("target"));
  EXPECT_FALSE(success.contains("reason"));
  EXPECT_FALSE(success.contains("detail"));
  EXPECT_FALSE(success.contains("retry"));
  EXPECT_FALSE(success.contains("in_flight"));
  EXPECT_EQ(j["entries"][1]["reason"], "cooldown");
  EXPECT_EQ(j["entries"][3]["retry"], true);
  EXPECT_EQ(j["entries"][4]["in_flight"], true);
  EXPECT_EQ(j["entries"][4]["outcome"], "unknown");
}

TEST(AuditSectionTest, KeepsTheNewestEntriesUpToTheBoundWithThePurgesInFlight) {
  AuditSection many = Sample();
  for (int i = 4; i < 20; ++i) many.entries.push_back(Typical(i));
  const json j = AuditSectionToJson(many, 5);
  ASSERT_EQ(j["entries"].size(), 5u);
  const auto back = AuditSectionFrom(json{{kAuditSection, j}});
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(Json(back->entries), Json({Typical(16), Typical(17), Typical(18), Typical(19)}));
  EXPECT_EQ(back->in_flight.size(), 1u) << "a purge in flight is never the one dropped";
}

TEST(AuditSectionTest, AFileFromBeforeTheSectionGivesAnEmptyOne) {
  for (const json& sections : {json::object(), json{{"policy", {{"cooldowns", json::array()}}}},
                               json{{kAuditSection, json::object()}}}) {
    const auto back = AuditSectionFrom(sections);
    ASSERT_TRUE(back.has_value()) << back.error();
    EXPECT_TRUE(back->entries.empty() && back->in_flight.empty() && back->last_purge.empty() &&
                back->manual_ids.empty())
        << sections;
  }
}

TEST(AuditSectionTest, DamageIsSkippedEntryByEntryOrReportedForTheSection) {
  json j = AuditSectionToJson(Sample(), 1000);
  j["entries"].push_back({{"time", "yesterday"}});
  j["entries"].push_back(42);
  j["last_purge_ms"]["c2"] = "soon";
  j["manual_ids"].push_back(7);
  const auto back = AuditSectionFrom(json{{kAuditSection, j}});
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(back->entries.size(), 4u);
  EXPECT_EQ(back->last_purge.size(), 1u);
  EXPECT_EQ(back->manual_ids.size(), 1u);

  for (const json& bad :
       {json(3), json{{"entries", "many"}}, json{{"last_purge_ms", json::array()}},
        json{{"manual_ids", json::object()}}}) {
    EXPECT_FALSE(AuditSectionFrom(json{{kAuditSection, bad}}).has_value()) << bad;
  }
}

// The figure docs/policies.md quotes: a state file with a full audit section (the AuditLog's 1,000
// entries, last purges of 50 connections) as state::Save writes it.
TEST(AuditSectionTest, AFullSectionKeepsTheStateFileSmall) {
  AuditSection full;
  for (int i = 0; i < 1500; ++i) full.entries.push_back(Typical(i));
  for (int i = 0; i < 50; ++i) full.last_purge["conn_01HF3K9Q2W8Z" + std::to_string(i)] = kT0;
  const fs::path path =
      fs::temp_directory_path() / ("hdm-audit-section-" + std::to_string(::getpid()) + ".json");
  ASSERT_TRUE(
      state::Save(path.string(),
                  json{{kAuditSection, AuditSectionToJson(full, AuditLog::kDefaultCapacity)}}, kT0)
          .has_value());
  const auto size = fs::file_size(path);
  const auto loaded = state::Load(path.string(), kT0);
  fs::remove(path);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(AuditSectionFrom(*loaded)->entries.size(), AuditLog::kDefaultCapacity);
  RecordProperty("state_file_bytes", std::to_string(size));
  EXPECT_LT(size, 512u * 1024) << size;
}

}  // namespace
}  // namespace hdm::policy::testing
