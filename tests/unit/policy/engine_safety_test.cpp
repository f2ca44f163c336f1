// The safeties and their order: maintenance, permanent_error, cooldown, budget, outage_pause.
#include <gtest/gtest.h>

#include "engine_fixture.h"
#include "policy/fingerprint.h"

namespace hdm::policy::testing {
namespace {

const PolicyKey kP1C1{.policy = "p", .target = {.connection_id = "c1"}};

TEST_F(EngineTest, SafetiesApplyInTheDocumentedOrder) {
  const std::vector<std::string> order = {"maintenance", "permanent_error", "cooldown", "budget",
                                          "outage_pause"};
  for (int mask = 0; mask < 32; ++mask) {
    SCOPED_TRACE("mask " + std::to_string(mask));
    auto on = [&](int bit) { return (mask & (1 << bit)) != 0; };
    t = kT0;  // 22:13:20Z
    std::string yaml = "safety:\n  max_purges_per_hour: 2\n";
    if (on(0)) yaml += "  maintenance: [ { cron: \"0 22 * * *\", duration: 1h } ]\n";
    yaml += R"(
policies:
  - { name: p, match: { id: [c1] }, when: { event: schedule, every: 1m }, action: { purge: connection } }
)";
    PolicyState state;
    if (on(1)) {
      state.permanent[kP1C1.target] = {.policy = "p", .at = t, .message = "HTTP 409"};
      state.permanent_fingerprint = ConfigFingerprint(*ConfigFrom(yaml));
    }
    if (on(2)) state.cooldown_until[kP1C1] = t + 1h;
    if (on(3)) state.budget_spends = {t - 10min, t - 5min};
    Start(yaml, state);
    Eval();
    t += 1min;
    AllAnswer(!on(4));  // all four unhealthy: an outage pause
    const Strings got = Eval();
    ASSERT_EQ(got.size(), 1u);
    std::string want = "p c1 perform";
    for (int bit = 0; bit < 5; ++bit) {
      if (on(bit)) {
        want = "p c1 suppressed:" + order[bit];
        break;
      }
    }
    EXPECT_EQ(got[0], want);
  }
}

TEST_F(EngineTest, MaintenanceWindowCoversStartToStartPlusDuration) {
  const std::string yaml = R"(
safety: { maintenance: [ { cron: "30 22 * * *", duration: 30m } ] }
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection }, cooldown: 0s }
)";
  struct Case {
    SysTime::duration after_t0;  // kT0 is 22:13:20Z
    std::string want;
  };
  const std::vector<Case> cases = {
      {16min + 39s, "p c1 perform"},                 // 22:29:59
      {16min + 40s, "p c1 suppressed:maintenance"},  // 22:30:00
      {46min + 39s, "p c1 suppressed:maintenance"},  // 22:59:59
      {46min + 40s, "p c1 perform"},                 // 23:00:00
  };
  for (const auto& c : cases) {
    t = kT0;
    Start(yaml);
    t = kT0 + c.after_t0;
    EXPECT_EQ(Step("c1", false), Strings{c.want});
  }
  EXPECT_EQ(last_.size(), 1u);
}

TEST_F(EngineTest, SuppressionDetailSaysWhy) {
  Start(R"(
safety: { maintenance: [ { cron: "0 22 * * *", duration: 1h } ] }
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection } }
)");
  Step("c1", false);
  ASSERT_EQ(last_.size(), 1u);
  EXPECT_EQ(last_[0].detail, "maintenance window \"0 22 * * *\" until 2023-11-14T23:00:00Z");
}

constexpr char kUnhealthyAll[] = R"(
safety: { pause_min_connections: 10 }
policies:
  - { name: p, when: { event: unhealthy, after_failures: 1 }, action: { purge: connection }, cooldown: 30m }
  - { name: q, match: { id: [c1] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection }, cooldown: 30m }
)";

TEST_F(EngineTest, CooldownIsPerPolicyAndTarget) {
  Start(kUnhealthyAll);
  EXPECT_EQ(Step("c1", false), (Strings{"p c1 perform", "q c1 perform"}));
  Advance(1min);
  Step("c1", true);
  Advance(1min);
  // A new episode on c1 within 30m: both policies are in cooldown for c1; c2 is not.
  Answer("c1", false);
  Answer("c2", false);
  EXPECT_EQ(Eval(),
            (Strings{"p c1 suppressed:cooldown", "q c1 suppressed:cooldown", "p c2 perform"}));
  EXPECT_EQ(last_[0].detail, "cooldown until 2023-11-14T22:43:20Z");
  // After the cooldown the next episode performs again.
  Step("c1", true);
  t = kT0 + 30min;
  EXPECT_EQ(Step("c1", false), (Strings{"p c1 perform", "q c1 perform"}));
}

TEST_F(EngineTest, SuppressedEdgeIsReportedOnceAndNotWhenTheSafetyLifts) {
  Start(kUnhealthyAll);
  Step("c1", false);
  Step("c1", true);
  Advance(1min);
  EXPECT_EQ(Step("c1", false), (Strings{"p c1 suppressed:cooldown", "q c1 suppressed:cooldown"}));
  for (int i = 0; i < 80; ++i) {  // the episode goes on past the cooldown's end
    Advance(30s);
    EXPECT_EQ(Step("c1", false), Strings{}) << i;
  }
}

TEST_F(EngineTest, BudgetIsAGlobalSlidingHour) {
  Start(R"(
safety: { max_purges_per_hour: 2, pause_min_connections: 10 }
policies:
  - { name: p, when: { event: unhealthy, after_failures: 1 }, action: { purge: connection }, cooldown: 0s }
)");
  Answer("c1", false);
  Answer("c2", false);
  Answer("c3", false);
  EXPECT_EQ(Eval(), (Strings{"p c1 perform", "p c2 perform", "p c3 suppressed:budget"}));
  Advance(59min);
  Step("c1", true);
  EXPECT_EQ(Step("c1", false), Strings{"p c1 suppressed:budget"});
  Step("c1", true);
  Advance(1min + 1ms);  // the two spends are now more than an hour old
  EXPECT_EQ(Step("c1", false), Strings{"p c1 perform"});
}

TEST_F(EngineTest, ZeroBudgetForbidsEveryPurge) {
  Start(R"(
safety: { max_purges_per_hour: 0 }
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, after_failures: 1 }, action: { purge: connection } }
)");
  EXPECT_EQ(Step("c1", false), Strings{"p c1 suppressed:budget"});
}

TEST_F(EngineTest, DryRunStartsTheCooldownButSpendsNoBudget) {
  for (const std::string where : {"global", "policy"}) {
    SCOPED_TRACE(where);
    t = kT0;
    Start(std::string(where == "global" ? "safety: { dry_run: true }\n" : "") + R"(
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection }, cooldown: 10m )" +
          (where == "policy" ? ", dry_run: true" : "") + " }\n");
    EXPECT_EQ(Step("c1", false), Strings{"p c1 dry_run"});
    EXPECT_TRUE(engine_->Export().budget_spends.empty());
    EXPECT_EQ(engine_->Export().cooldown_until.at(kP1C1), t + 10min);
    Step("c1", true);
    Advance(5min);
    EXPECT_EQ(Step("c1", false), Strings{"p c1 suppressed:cooldown"});
    Step("c1", true);
    Advance(5min);
    EXPECT_EQ(Step("c1", false), Strings{"p c1 dry_run"});
  }
}

TEST_F(EngineTest, PerformSpendsBudgetAndHoldsTheTargetUntilTheOutcome) {
  Start(R"(
policies:
  - { name: p, match: { id: [c1] }, when: { event: tables_changed }, action: { purge: connection }, cooldown: 0s }
)");
  Fleet("c1").table_count = 1;
  engine_->OnDiscovery(fleet_, t);
  Fleet("c1").table_count = 2;
  engine_->OnDiscovery(fleet_, t);
  const auto first = engine_->Evaluate(t);  // no outcome yet: the purge is in flight
  ASSERT_EQ(Summaries(first), Strings{"p c1 perform"});
  EXPECT_EQ(engine_->Export().budget_spends, std::vector<SysTime>{t});
  Advance(1s);
  Fleet("c1").table_count = 3;
  engine_->OnDiscovery(fleet_, t);
  EXPECT_EQ(Summaries(engine_->Evaluate(t)), Strings{"p c1 suppressed:cooldown"});
}

}  // namespace
}  // namespace hdm::policy::testing
