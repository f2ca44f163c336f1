// issue #14 part 1: a state file that could not be used at a start (corrupt, or a version that
// can be neither read nor migrated) lost its cooldowns and budget; every purge is held with
// reason state_lost until an operator clears the hold or the file ages out (the longest cooldown
// and the budget's hour after its last save).
#include <gtest/gtest.h>

#include <algorithm>

#include "engine_fixture.h"

namespace hdm::policy::testing {
namespace {

constexpr char kTwoPolicies[] = R"(
scheduler: { interval: 30s }
policies:
  - { name: sched, match: { id: [c1] }, when: { event: schedule, every: 1m },
      action: { purge: connection }, cooldown: 2h }
  - { name: down, match: { id: [c2] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection }, cooldown: 10m }
)";

// A hold that began at kT0 for a file last saved 30 minutes before.
PolicyState Held() {
  PolicyState s;
  s.state_lost = StateLostHold{.since = kT0,
                               .file_time = kT0 - 30min,
                               .file = "/var/lib/x/state.json.v3-1700000000",
                               .why = "version 3 is newer than this build's version 1"};
  return s;
}

class StateLostTest : public EngineTest {};

TEST_F(StateLostTest, EveryPurgeIsHeldWithItsOwnReasonBeforeEveryOtherSafety) {
  Start(kTwoPolicies, Held());
  EXPECT_EQ(Eval(), Strings{});
  Advance(1min);
  Answer("c2", false);
  EXPECT_EQ(Eval(), (Strings{"down c2 suppressed:state_lost", "sched c1 suppressed:state_lost"}));
  EXPECT_NE(last_[0].detail.find("version 3 is newer"), std::string::npos) << last_[0].detail;
  EXPECT_NE(last_[0].detail.find("hotdata-monitor state clear-hold"), std::string::npos);
  // The longest cooldown (2h) after the file's last save (kT0 - 30m).
  EXPECT_NE(last_[0].detail.find("2023-11-14T23:43:20Z"), std::string::npos) << last_[0].detail;
  const PolicyState after = engine_->Export();
  EXPECT_TRUE(after.budget_spends.empty()) << "held purges spend nothing";
  EXPECT_TRUE(after.cooldown_until.empty()) << "and start no cooldown";
  EXPECT_TRUE(engine_->StateLost().has_value());
  // A suppressed decision consumes its edge, as with every safety.
  Advance(30s);
  Answer("c2", false);
  EXPECT_EQ(Eval(), Strings{});
}

TEST_F(StateLostTest, DryRunPoliciesAreHeldTooLikeByEverySafety) {
  Start(R"(
safety: { dry_run: true }
policies:
  - { name: sched, match: { id: [c1] }, when: { event: schedule, every: 1m },
      action: { purge: connection } }
  - { name: own, match: { id: [c2] }, when: { event: schedule, every: 1m },
      action: { purge: connection }, dry_run: true }
)",
        Held());
  EXPECT_EQ(Eval(), Strings{});
  Advance(1min);
  EXPECT_EQ(Eval(), (Strings{"sched c1 suppressed:state_lost", "own c2 suppressed:state_lost"}));
  EXPECT_TRUE(engine_->Export().cooldown_until.empty()) << "no dry-run cadence while held";
}

TEST_F(StateLostTest, TheHoldAgesOutOnceTheLongestCooldownAndTheBudgetHourHavePassed) {
  Start(kTwoPolicies, Held());
  EXPECT_EQ(engine_->StateLostUntil(), kT0 + 90min) << "file_time + 2h (longest cooldown)";
  EXPECT_EQ(Eval(), Strings{});
  Advance(90min - 1s);
  EXPECT_EQ(Eval(), Strings{"sched c1 suppressed:state_lost"});
  EXPECT_FALSE(engine_->TakeStateLostEnd().has_value());
  Advance(1s);
  Answer("c2", false);
  EXPECT_EQ(Eval(), (Strings{"down c2 perform", "sched c1 perform"}));
  const auto end = engine_->TakeStateLostEnd();
  ASSERT_TRUE(end.has_value());
  EXPECT_NE(end->find("aged out at 2023-11-14T23:43:20Z"), std::string::npos) << *end;
  EXPECT_FALSE(engine_->TakeStateLostEnd().has_value()) << "reported once";
  EXPECT_FALSE(engine_->StateLost().has_value());
  EXPECT_FALSE(engine_->Export().state_lost.has_value()) << "and not saved any more";
}

TEST_F(StateLostTest, WithShortCooldownsTheBudgetHourDecides) {
  Start(R"(
policies:
  - { name: sched, when: { event: schedule, every: 1m }, action: { purge: connection },
      cooldown: 5m }
)",
        Held());
  EXPECT_EQ(engine_->StateLostUntil(), kT0 + 30min) << "file_time + 1h";
  // A reload with a longer cooldown moves the end: the config in force decides.
  engine_->Reconfigure(ConfigFrom(R"(
policies:
  - { name: sched, when: { event: schedule, every: 1m }, action: { purge: connection },
      cooldown: 3h }
)"));
  EXPECT_EQ(engine_->StateLostUntil(), kT0 + 150min);
}

TEST_F(StateLostTest, TheHoldSurvivesARestartUntilItEnds) {
  Start(kTwoPolicies, Held());
  EXPECT_EQ(Eval(), Strings{});
  Advance(1min);
  Restart();
  Answer("c2", false);
  const Strings after_restart = Eval();
  EXPECT_NE(std::find(after_restart.begin(), after_restart.end(), "down c2 suppressed:state_lost"),
            after_restart.end());
  for (const Decision& d : last_) EXPECT_EQ(d.reason, SuppressReason::kStateLost);
  // Through the JSON form, as the state file carries it.
  auto decoded = PolicyStateFromJson(PolicyStateToJson(engine_->Export()));
  ASSERT_TRUE(decoded.has_value()) << decoded.error();
  EXPECT_EQ(decoded->state_lost, Held().state_lost);
}

TEST_F(StateLostTest, AnOperatorsClearThatNamesTheHoldEndsIt) {
  Start(kTwoPolicies, Held());
  EXPECT_EQ(Eval(), Strings{});
  // A clear of an earlier hold changes nothing.
  PolicyState old_clear;
  old_clear.state_lost_cleared = kT0 - 1h;
  engine_->MergeShared(old_clear);
  EXPECT_TRUE(engine_->StateLost().has_value());
  EXPECT_FALSE(engine_->TakeStateLostEnd().has_value());
  // The one the command line writes: the hold's `since`, the hold itself gone from the file.
  PolicyState cleared;
  cleared.state_lost_cleared = kT0;
  engine_->MergeShared(cleared);
  EXPECT_FALSE(engine_->StateLost().has_value());
  EXPECT_EQ(engine_->TakeStateLostEnd(),
            "cleared by an operator (hotdata-monitor state clear-hold)");
  Advance(1min);
  EXPECT_EQ(Eval(), Strings{"sched c1 perform"});
  // Read again (the file's stamp changes with every save): nothing more to report.
  engine_->MergeShared(cleared);
  EXPECT_FALSE(engine_->TakeStateLostEnd().has_value());
}

TEST_F(StateLostTest, AStepOfTheWallClockMovesTheHoldsEndWithIt) {
  Start(kTwoPolicies, Held());
  engine_->OnWallClockStep(-1h);
  EXPECT_EQ(engine_->StateLostUntil(), kT0 + 30min) << "still 90 minutes of real time from now";
}

TEST_F(StateLostTest, NoHoldNoEffect) {
  Start(kTwoPolicies);
  EXPECT_FALSE(engine_->StateLost().has_value());
  EXPECT_FALSE(engine_->StateLostUntil().has_value());
  EXPECT_EQ(Eval(), Strings{});
  Advance(1min);
  EXPECT_EQ(Eval(), Strings{"sched c1 perform"});
}

}  // namespace
}  // namespace hdm::policy::testing
