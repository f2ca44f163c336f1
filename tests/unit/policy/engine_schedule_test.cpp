// schedule: cron and every, first firing, restarts that neither repeat nor catch up.
#include <gtest/gtest.h>

#include "common/time_format.h"
#include "engine_fixture.h"

namespace hdm::policy::testing {
namespace {

constexpr char kEveryHour[] = R"(
policies:
  - { name: hourly, match: { name: [prod-a] }, when: { event: schedule, every: 1h },
      action: { purge: connection }, cooldown: 0s }
)";

// 2023-11-15T03:00:00Z, the first "0 3 * * *" point after kT0.
const SysTime kThreeAm = SysTime(std::chrono::seconds(1'700'017'200));

TEST_F(EngineTest, EveryFirstFiresOnePeriodAfterStartThenEachPeriod) {
  Start(kEveryHour);
  struct At {
    SysTime::duration since_start;
    Strings want;
  };
  const std::vector<At> times = {
      {0s, {}},      {59min, {}},      {1h, {"hourly c1 perform"}},
      {1h + 1s, {}}, {1h + 30min, {}}, {2h, {"hourly c1 perform"}},
  };
  for (const auto& at : times) {
    t = kT0 + at.since_start;
    EXPECT_EQ(Eval(), at.want) << FormatRfc3339(t);
  }
  EXPECT_EQ(last_[0].trigger, "schedule every 1h at " + FormatRfc3339(kT0 + 2h));
}

TEST_F(EngineTest, EveryDoesNotCatchUpAfterAStall) {
  Start(kEveryHour);
  Eval();
  t = kT0 + 3h + 10min;                             // nobody evaluated for three periods
  EXPECT_EQ(Eval(), Strings{"hourly c1 perform"});  // once, not three times
  t = kT0 + 3h + 50min;
  EXPECT_EQ(Eval(), Strings{});
  t = kT0 + 4h;  // the grid stays anchored at the start
  EXPECT_EQ(Eval(), Strings{"hourly c1 perform"});
}

TEST_F(EngineTest, EveryAfterRestartContinuesFromTheLastFiring) {
  Start(kEveryHour);
  Eval();
  t = kT0 + 1h;
  ASSERT_EQ(Eval(), Strings{"hourly c1 perform"});
  t = kT0 + 1h + 10min;
  Restart();
  EXPECT_EQ(Eval(), Strings{});  // no repeat of the 1h firing
  t = kT0 + 1h + 59min;
  EXPECT_EQ(Eval(), Strings{});
  t = kT0 + 2h;  // last firing plus the period, not start plus the period
  EXPECT_EQ(Eval(), Strings{"hourly c1 perform"});
}

TEST_F(EngineTest, EveryAfterLongDowntimeTakesTheNextGridPointWithoutCatchingUp) {
  Start(kEveryHour);
  Eval();
  t = kT0 + 1h;
  ASSERT_EQ(Eval(), Strings{"hourly c1 perform"});
  t = kT0 + 5h + 30min;  // down for four and a half periods
  Restart();
  EXPECT_EQ(Eval(), Strings{});
  t = kT0 + 5h + 59min;
  EXPECT_EQ(Eval(), Strings{});
  t = kT0 + 6h;
  EXPECT_EQ(Eval(), Strings{"hourly c1 perform"});
}

TEST_F(EngineTest, EveryRestartBeforeTheFirstFiringStartsAfresh) {
  Start(kEveryHour);
  Eval();
  t = kT0 + 30min;
  Restart();
  EXPECT_EQ(Eval(), Strings{});
  t = kT0 + 1h;
  EXPECT_EQ(Eval(), Strings{});  // "one period after start": this start
  t = kT0 + 1h + 30min;
  EXPECT_EQ(Eval(), Strings{"hourly c1 perform"});
}

constexpr char kNightly[] = R"(
policies:
  - name: nightly
    match: { name: [prod-a] }
    when: { event: schedule, cron: "0 3 * * *" }
    action: { purge: table, tables: ["public.orders", { schema: "eu.sales", table: "Order Items" }] }
)";

TEST_F(EngineTest, CronFiresAtEachPointInUtcForEveryListedTable) {
  Start(kNightly);
  EXPECT_EQ(Eval(), Strings{});
  t = kThreeAm - 1s;
  EXPECT_EQ(Eval(), Strings{});
  t = kThreeAm;
  EXPECT_EQ(Eval(), (Strings{"nightly c1/public.orders perform",
                             "nightly c1/eu.sales.Order Items perform"}));
  EXPECT_EQ(last_[0].trigger, "schedule \"0 3 * * *\" at 2023-11-15T03:00:00Z");
  EXPECT_EQ(last_[1].action, PurgeKind::kTable);
  t = kThreeAm + 30s;
  EXPECT_EQ(Eval(), Strings{});
  t = kThreeAm + 24h;
  EXPECT_EQ(Eval(), (Strings{"nightly c1/public.orders perform",
                             "nightly c1/eu.sales.Order Items perform"}));
}

TEST_F(EngineTest, CronRestartNeitherRepeatsNorCatchesUp) {
  Start(kNightly);
  Eval();
  t = kThreeAm;
  ASSERT_EQ(Eval().size(), 2u);
  t = kThreeAm + 20s;  // restarted within the minute of the firing
  Restart();
  EXPECT_EQ(Eval(), Strings{});
  // Down across the next point: it is not caught up after the restart.
  t = kThreeAm + 24h + 5min;
  Restart();
  EXPECT_EQ(Eval(), Strings{});
  t = kThreeAm + 48h;
  EXPECT_EQ(Eval().size(), 2u);
}

TEST_F(EngineTest, ScheduleTargetsEveryMatchingMonitoredConnection) {
  Start(R"(
policies:
  - { name: all, match: { source_type: [postgres] }, when: { event: schedule, every: 10m },
      action: { purge: connection } }
)");
  Eval();
  // c2 leaves the fleet at the next discovery.
  fleet_.erase(fleet_.begin() + 1);
  engine_->OnDiscovery(fleet_, t);
  t = kT0 + 10min;
  EXPECT_EQ(Eval(), (Strings{"all c1 perform", "all c3 perform"}));
}

TEST_F(EngineTest, NextDueNamesTheNextSchedulePoint) {
  Start(kEveryHour);
  EXPECT_EQ(engine_->NextDue(), SysTime{});  // evaluate at once
  Eval();
  EXPECT_EQ(engine_->NextDue(), kT0 + 1h);
}

}  // namespace
}  // namespace hdm::policy::testing
