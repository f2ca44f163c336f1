// table_stale and tables_changed.
#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace hdm::policy::testing {
namespace {

constexpr char kStale[] = R"(
tables:
  - { connection: prod-a, schema: public, table: orders }
  - { connection: c1, schema: public, table: items }
policies:
  - { name: stale, when: { event: table_stale, max_age: 6h }, action: { purge: table }, cooldown: 0s }
)";

const TableRef kOrders{.schema = "public", .table = "orders"};
const TableRef kItems{.schema = "public", .table = "items"};

TEST_F(EngineTest, TableStaleFiresOncePerEpisodeForTheTableThatTriggered) {
  Start(kStale);
  struct Profile {
    SysTime::duration age;
    Strings want;
  };
  const std::vector<Profile> profiles = {
      {5h, {}},
      {7h, {"stale c1/public.orders perform"}},
      {8h, {}},  // still stale: same episode
      {1h, {}},  // fresh again
      {6h + 1s, {"stale c1/public.orders perform"}},
  };
  for (size_t i = 0; i < profiles.size(); ++i) {
    Advance(10min);
    engine_->OnTableProfile("c1", kOrders, t - profiles[i].age, t);
    EXPECT_EQ(Eval(), profiles[i].want) << "profile " << i;
  }
  EXPECT_EQ(last_[0].trigger, "table public.orders stale: synced 6h1s ago (max_age 6h)");
}

TEST_F(EngineTest, TableStaleOnlyForListedTablesWithAKnownSyncTime) {
  Start(kStale);
  engine_->OnTableProfile("c1", {.schema = "public", .table = "other"}, t - 9h, t);
  engine_->OnTableProfile("c2", kOrders, t - 9h, t);  // listed for prod-a only
  engine_->OnTableProfile("c1", kOrders, std::nullopt, t);
  EXPECT_EQ(Eval(), Strings{});
  engine_->OnTableProfile("c1", kItems, t - 9h, t);  // listed by connection id
  EXPECT_EQ(Eval(), Strings{"stale c1/public.items perform"});
}

TEST_F(EngineTest, TableStaleWithListedTablesPurgesThoseOnceForSeveralTriggers) {
  Start(R"(
tables:
  - { connection: prod-a, schema: public, table: orders }
  - { connection: prod-a, schema: public, table: items }
policies:
  - { name: stale, when: { event: table_stale, max_age: 6h },
      action: { purge: table, tables: [public.orders] } }
)");
  engine_->OnTableProfile("c1", kOrders, t - 9h, t);
  engine_->OnTableProfile("c1", kItems, t - 9h, t);
  EXPECT_EQ(Eval(), Strings{"stale c1/public.orders perform"});
  EXPECT_NE(last_[0].trigger.find("public.orders stale"), std::string::npos);
  EXPECT_NE(last_[0].trigger.find("public.items stale"), std::string::npos);
}

TEST_F(EngineTest, TablesChangedFiresWhenACountChangesBetweenTwoDiscoveries) {
  Start(R"(
policies:
  - { name: changed, match: { id: [c1] }, when: { event: tables_changed },
      action: { purge: connection }, cooldown: 0s }
)");
  struct Discovery {
    std::optional<int64_t> tables;
    std::optional<int64_t> synced;
    Strings want;
  };
  const std::vector<Discovery> discoveries = {
      {7, 5, {}},                        // the first counts are a baseline
      {7, 5, {}},                        // unchanged
      {8, 5, {"changed c1 perform"}},    // a table appeared
      {std::nullopt, std::nullopt, {}},  // get_connection failed: keeps the last counts
      {8, 6, {"changed c1 perform"}},    // one more table synced
  };
  for (size_t i = 0; i < discoveries.size(); ++i) {
    Advance(5min);
    Fleet("c1").table_count = discoveries[i].tables;
    Fleet("c1").synced_table_count = discoveries[i].synced;
    engine_->OnDiscovery(fleet_, t);
    EXPECT_EQ(Eval(), discoveries[i].want) << "discovery " << i;
  }
  EXPECT_EQ(last_[0].trigger, "tables changed: synced_table_count 5 -> 6");
}

TEST_F(EngineTest, TablesChangedCountsSurviveARestart) {
  Start(R"(
policies:
  - { name: changed, match: { id: [c1] }, when: { event: tables_changed },
      action: { purge: connection } }
)");
  Fleet("c1").table_count = 7;
  engine_->OnDiscovery(fleet_, t);
  Fleet("c1").table_count = 9;
  Restart();  // the restart's discovery already sees 9
  EXPECT_EQ(Eval(), Strings{"changed c1 perform"});
  EXPECT_EQ(last_[0].trigger, "tables changed: table_count 7 -> 9");
}

// issue #13 item 3: the daemon polls its fleet every few seconds, and get_connection answers
// come after the list: each answer is compared with the last one as it arrives, so that no count
// between two polls is missed and each change fires once, whether a discovery sees it too or not.
TEST_F(EngineTest, TablesChangedComparesEachGetConnectionAnswerAsItArrives) {
  Start(R"(
policies:
  - { name: changed, match: { id: [c1] }, when: { event: tables_changed },
      action: { purge: connection }, cooldown: 0s }
)");
  // The discovery came before any get_connection answer: no counts yet.
  ConnectionState c1 = Fleet("c1");
  struct Answer {
    std::optional<int64_t> tables;
    std::optional<int64_t> synced;
    bool then_discovery;
    Strings want;
  };
  const std::vector<Answer> answers = {
      {3, 3, false, {}},                        // the baseline
      {4, 3, false, {"changed c1 perform"}},    // between two polls of the fleet
      {4, 3, true, {}},                         // the poll sees what is known already
      {4, 4, true, {"changed c1 perform"}},     // synced, and a discovery at once
      {std::nullopt, std::nullopt, false, {}},  // get_connection failed
      {4, 4, false, {}},                        // unchanged
  };
  for (size_t i = 0; i < answers.size(); ++i) {
    Advance(2s);
    c1.table_count = answers[i].tables;
    c1.synced_table_count = answers[i].synced;
    engine_->OnConnectionDetails(c1, t);
    if (answers[i].then_discovery) {
      Fleet("c1") = c1;
      engine_->OnDiscovery(fleet_, t);
    }
    EXPECT_EQ(Eval(), answers[i].want) << "answer " << i;
  }
}

}  // namespace
}  // namespace hdm::policy::testing
