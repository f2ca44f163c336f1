// issue #13 item 1: a step of the wall clock (NTP after a VM resumed, an RTC that ran ahead)
// moves every time the engine recorded with it, so that what it measures (how long an episode
// lasted, cooldowns, the budget's hour, the next `every` firing, a retry, the outage pause
// window) keeps its length in real time. Without OnWallClockStep() a step back of an hour
// stops `for` episodes and `every` schedules for an hour, and a step forward ends every cooldown
// and budget hour at once: a purge storm.
#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace hdm::policy::testing {
namespace {

class ClockStepTest : public EngineTest {
 protected:
  // The wall clock steps by `d`: the engine is told, and `t` (the wall clock) moves with it.
  void StepWall(SysTime::duration d) {
    engine_->OnWallClockStep(d);
    t += d;
  }
  // An outage pause: c1..c3 answered unhealthy just now; a policy on c4 fires on its first
  // unhealthy answer.
  void StartPaused() {
    Start(R"(
scheduler: { interval: 30s }
safety: { pause_when_unhealthy_fraction_above: 0.5, pause_min_connections: 3 }
policies:
  - { name: down, match: { id: [c4] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection } }
)");
    Answer("c1", false);
    Answer("c2", false);
    Answer("c3", false);
    EXPECT_EQ(Eval(), Strings{});
  }
};

TEST_F(ClockStepTest, AnEpisodeKeepsItsRealLengthAcrossAStepBack) {
  Start(R"(
policies:
  - { name: down, match: { id: [c1] }, when: { event: unhealthy, for: 5m },
      action: { purge: connection } }
)");
  for (int minute = 0; minute <= 5; ++minute) {
    if (minute == 2) StepWall(-1h);
    const Strings want = minute == 5 ? Strings{"down c1 perform"} : Strings{};
    EXPECT_EQ(Step("c1", false), want) << "minute " << minute;
    Advance(1min);
  }
  ASSERT_EQ(last_.size(), 1u);
  EXPECT_NE(last_[0].trigger.find("5m"), std::string::npos) << last_[0].trigger;
}

TEST_F(ClockStepTest, AStepForwardEndsNoCooldownAndNoBudgetHour) {
  Start(R"(
safety: { max_purges_per_hour: 1 }
policies:
  - { name: down, match: { id: [c1, c2] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection }, cooldown: 30m }
)");
  EXPECT_EQ(Step("c1", false), Strings{"down c1 perform"});
  StepWall(1h);
  Advance(1min);
  EXPECT_EQ(Step("c1", true), Strings{});
  EXPECT_EQ(Step("c1", false), Strings{"down c1 suppressed:cooldown"});
  EXPECT_EQ(Step("c2", false), Strings{"down c2 suppressed:budget"});
  // Real time does end them.
  Advance(1h);
  EXPECT_EQ(Step("c1", true), Strings{});
  EXPECT_EQ(Step("c1", false), Strings{"down c1 perform"});
}

TEST_F(ClockStepTest, EverySchedulesAndRetriesStayOnTheirPeriodAcrossAStepBack) {
  Start(R"(
scheduler: { interval: 30s }
policies:
  - { name: sched, match: { id: [c1] }, when: { event: schedule, every: 1m },
      action: { purge: connection }, cooldown: 0s }
)");
  EXPECT_EQ(Eval(), Strings{});
  Advance(1min);
  EXPECT_EQ(Eval(OutcomeKind::kTransientError), Strings{"sched c1 perform"});
  StepWall(-1h);
  Advance(30s);
  EXPECT_EQ(Eval(), Strings{"sched c1 perform +retry"});
  Advance(30s);
  EXPECT_EQ(Eval(), Strings{"sched c1 perform"});
  // The persisted last firing moved too: a restart now does not wait an hour either.
  Restart();
  EXPECT_EQ(Eval(), Strings{});
  Advance(1min);
  EXPECT_EQ(Eval(), Strings{"sched c1 perform"});
}

TEST_F(ClockStepTest, TheOutagePauseWindowIsRealTime) {
  StartPaused();
  ASSERT_TRUE(engine_->OutagePaused());
  // A step forward does not age the answers of a second ago out of the window.
  StepWall(1h);
  Advance(1s);
  EXPECT_EQ(Step("c4", false), Strings{"down c4 suppressed:outage_pause"});
  EXPECT_TRUE(engine_->OutagePaused());
}

TEST_F(ClockStepTest, AStepBackDoesNotKeepTheOutagePauseOnForAnHour) {
  StartPaused();
  ASSERT_TRUE(engine_->OutagePaused());
  StepWall(-1h);
  Advance(2min);  // the unhealthy answers are two minutes old: out of the window
  EXPECT_EQ(Step("c4", false), Strings{"down c4 perform"});
  EXPECT_FALSE(engine_->OutagePaused());
}

}  // namespace
}  // namespace hdm::policy::testing
