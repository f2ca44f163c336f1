// The outage pause: fraction, minimum answers, age of answers, and episodes that overlapped it.
#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace hdm::policy::testing {
namespace {

TEST_F(EngineTest, OutagePauseJudgesTheRecentAnswersAgainstFractionAndMinimum) {
  struct Case {
    std::string safety;
    std::vector<bool> healthy;  // answers of c1..c4 (fewer: the rest never answered)
    bool paused;
  };
  const std::vector<Case> cases = {
      {"{}", {false, false, false, true}, true},  // 3 of 4 > 50%
      {"{}", {false, false, true, true}, false},  // 2 of 4 is not more than 50%
      {"{}", {false, false}, false},              // 2 answers < pause_min_connections 3
      {"{}", {false, false, false}, true},        // 3 of 3
      {"{ pause_min_connections: 5 }", {false, false, false, false}, false},
      {"{ pause_when_unhealthy_fraction_above: 0.2 }", {false, true, true, true}, true},
      {"{ pause_when_unhealthy_fraction_above: 1 }", {false, false, false, false}, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.safety + " answers " + std::to_string(c.healthy.size()));
    t = kT0;
    Start("safety: " + c.safety + "\n");
    for (size_t i = 0; i < c.healthy.size(); ++i) Answer(fleet_[i].info.id, c.healthy[i]);
    Eval();
    EXPECT_EQ(engine_->OutagePaused(), c.paused);
  }
}

TEST_F(EngineTest, OutagePauseForgetsAnswersOlderThanTwoIntervals) {
  Start("scheduler: { interval: 30s }\n");
  Answer("c1", false);
  Answer("c2", false);
  Advance(30s);
  Answer("c3", false);
  Answer("c4", true);
  Eval();
  EXPECT_TRUE(engine_->OutagePaused());  // 3 of 4
  Advance(30s);
  Eval();
  EXPECT_TRUE(engine_->OutagePaused());  // c1, c2 are exactly two intervals old
  Advance(1ms);
  Eval();
  EXPECT_FALSE(engine_->OutagePaused());  // only c3, c4 left: below the minimum
  EXPECT_EQ(engine_->PauseDetail(),
            "outage pause: 3 of 4 recent answers unhealthy (more than 50%)");
}

TEST_F(EngineTest, OutagePauseHoldsEveryPurge) {
  Start(R"(
policies:
  - { name: s, match: { id: [c1] }, when: { event: schedule, every: 1m }, action: { purge: connection } }
)");
  Eval();
  Advance(1min);
  AllAnswer(false);
  EXPECT_EQ(Eval(), Strings{"s c1 suppressed:outage_pause"});
  Advance(1min);
  AllAnswer(true);
  EXPECT_EQ(Eval(), Strings{"s c1 perform"});
}

constexpr char kRecovered[] = R"(
policies:
  - { name: r, when: { event: recovered, after_failures: 2 }, action: { purge: connection }, cooldown: 0s }
)";

TEST_F(EngineTest, EpisodeThatOverlappedAPauseDoesNotFireWhenItEnds) {
  Start(kRecovered);
  // An API-wide outage: every connection unhealthy twice; the pause starts at the third answer
  // of the first round and marks every open episode.
  for (int round = 0; round < 2; ++round) {
    AllAnswer(false);
    Eval();
    Advance(30s);
  }
  EXPECT_TRUE(engine_->OutagePaused());
  // The fleet recovers one by one; the pause lifts half way, but every episode overlapped it.
  Strings got;
  for (const auto& c : fleet_) {
    Answer(c.info.id, true);
    for (const auto& s : Eval()) got.push_back(s);
  }
  EXPECT_FALSE(engine_->OutagePaused());
  EXPECT_EQ(got, (Strings{"r c1 suppressed:outage_pause", "r c2 suppressed:outage_pause",
                          "r c3 suppressed:outage_pause", "r c4 suppressed:outage_pause"}));
  EXPECT_EQ(last_[0].detail,
            "the episode overlapped an outage pause (many connections unhealthy at once)");
  // A later outage of one connection, with no pause, fires as usual.
  Advance(30s);
  AllAnswer(true);
  Step("c1", false);
  Advance(30s);
  Step("c1", false);
  Advance(30s);
  EXPECT_EQ(Step("c1", true), Strings{"r c1 perform"});
}

TEST_F(EngineTest, EpisodeOpenedDuringAPauseOverlapsItEvenIfThePauseEndsBeforeTheEdge) {
  Start(R"(
policies:
  - { name: u, match: { id: [c4] }, when: { event: unhealthy, after_failures: 3 }, action: { purge: connection } }
)");
  Answer("c1", false);
  Answer("c2", false);
  Answer("c3", false);
  Step("c4", false);  // opens while paused
  ASSERT_TRUE(engine_->OutagePaused());
  Advance(30s);
  Answer("c1", true);
  Answer("c2", true);
  Answer("c3", true);
  Step("c4", false);
  ASSERT_FALSE(engine_->OutagePaused());
  Advance(30s);
  EXPECT_EQ(Step("c4", false), Strings{"u c4 suppressed:outage_pause"});
}

TEST_F(EngineTest, ConnectionsThatLeaveTheFleetLeaveThePauseJudgement) {
  Start("");
  Answer("c1", false);
  Answer("c2", false);
  Answer("c3", false);
  Eval();
  ASSERT_TRUE(engine_->OutagePaused());
  fleet_.erase(fleet_.begin(), fleet_.begin() + 2);  // c1, c2 deleted
  engine_->OnDiscovery(fleet_, t);
  EXPECT_FALSE(engine_->OutagePaused());
}

}  // namespace
}  // namespace hdm::policy::testing
