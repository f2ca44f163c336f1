// unhealthy, recovered and latency_above: edges, thresholds, failed checks, match.
#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace hdm::policy::testing {
namespace {

constexpr char kUnhealthyAfter3[] = R"(
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, after_failures: 3 },
      action: { purge: connection }, cooldown: 0s }
)";

TEST_F(EngineTest, UnhealthyAfterFailuresFiresOnceOnTheEdgeAndAgainInTheNextEpisode) {
  Start(kUnhealthyAfter3);
  struct StepCase {
    bool healthy;
    Strings want;
  };
  const std::vector<StepCase> steps = {
      {false, {}}, {false, {}}, {false, {"p c1 perform"}},
      {false, {}}, {false, {}},  // still holding: no new edge
      {true, {}},                // episode over
      {false, {}}, {false, {}}, {false, {"p c1 perform"}},
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    Advance(30s);
    EXPECT_EQ(Step("c1", steps[i].healthy), steps[i].want) << "answer " << i;
  }
}

TEST_F(EngineTest, UnhealthyTriggerExplainsWhatHeld) {
  Start(kUnhealthyAfter3);
  Step("c1", false);
  Advance(30s);
  Step("c1", false);
  Advance(30s);
  ASSERT_EQ(Step("c1", false), Strings{"p c1 perform"});
  EXPECT_EQ(last_[0].trigger, "unhealthy for 1m (3 unhealthy answers in a row)");
  EXPECT_EQ(last_[0].target.connection_name, "prod-a");
  EXPECT_EQ(last_[0].action, PurgeKind::kConnection);
}

TEST_F(EngineTest, UnhealthyForDurationIsMeasuredFromFirstToLatestUnhealthyAnswer) {
  Start(R"(
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, for: 2m }, action: { purge: connection } }
)");
  EXPECT_EQ(Step("c1", false), Strings{});
  Advance(90s);
  EXPECT_EQ(Eval(), Strings{});  // time alone, without an answer, does not complete `for`
  Advance(30s);
  EXPECT_EQ(Eval(), Strings{});
  EXPECT_EQ(Step("c1", false), Strings{"p c1 perform"});
  EXPECT_EQ(last_[0].trigger, "unhealthy for 2m (2 unhealthy answers in a row)");
}

TEST_F(EngineTest, UnhealthyWithForAndAfterFailuresNeedsBoth) {
  Start(R"(
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, for: 1m, after_failures: 4 },
      action: { purge: connection } }
)");
  const std::vector<Strings> want = {{}, {}, {}, {"p c1 perform"}};  // 1m is met at the 3rd
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(Step("c1", false), want[i]) << "answer " << i;
    Advance(30s);
  }
}

TEST_F(EngineTest, FailedChecksNeitherCountNorReset) {
  Start(kUnhealthyAfter3);
  EXPECT_EQ(Step("c1", false), Strings{});
  Fail("c1");
  EXPECT_EQ(Eval(), Strings{});
  EXPECT_EQ(Step("c1", false), Strings{});
  for (int i = 0; i < 5; ++i) {
    Advance(30s);
    Fail("c1");  // five failed checks: not unhealthy answers, and no reset either
    EXPECT_EQ(Eval(), Strings{});
  }
  EXPECT_EQ(Step("c1", false), Strings{"p c1 perform"});
}

TEST_F(EngineTest, FailedCheckDoesNotEndAnEpisodeOrFireRecovered) {
  Start(R"(
policies:
  - { name: r, match: { id: [c1] }, when: { event: recovered, after_failures: 2 },
      action: { purge: connection } }
)");
  Step("c1", false);
  Step("c1", false);
  Fail("c1");
  EXPECT_EQ(Eval(), Strings{});
  EXPECT_TRUE(engine_->StatusFor("c1", t)[0].episode_open);
  EXPECT_EQ(Step("c1", true), Strings{"r c1 perform"});
}

TEST_F(EngineTest, RecoveredAfterNUnhealthyAnswers) {
  Start(R"(
policies:
  - { name: r, match: { id: [c1] }, when: { event: recovered, after_failures: 3 },
      action: { purge: connection }, cooldown: 0s }
)");
  // Two unhealthy answers are not enough.
  Step("c1", false);
  Advance(30s);
  Step("c1", false);
  Advance(30s);
  EXPECT_EQ(Step("c1", true), Strings{});
  // Four then healthy: fires once, at the healthy answer.
  for (int i = 0; i < 4; ++i) {
    Advance(3min);
    EXPECT_EQ(Step("c1", false), Strings{});
  }
  Advance(3min);
  EXPECT_EQ(Step("c1", true), Strings{"r c1 perform"});
  EXPECT_EQ(last_[0].trigger, "recovered after 4 unhealthy answers (12m down)");
  Advance(30s);
  EXPECT_EQ(Step("c1", true), Strings{});
}

TEST_F(EngineTest, RecoveredAfterDurationDown) {
  Start(R"(
policies:
  - { name: r, match: { id: [c1] }, when: { event: recovered, for: 5m },
      action: { purge: connection }, cooldown: 0s }
)");
  Step("c1", false);
  Advance(4min);
  EXPECT_EQ(Step("c1", true), Strings{});  // down 4m
  Step("c1", false);
  Advance(5min);
  EXPECT_EQ(Step("c1", true), Strings{"r c1 perform"});  // down 5m, one answer
  EXPECT_EQ(last_[0].trigger, "recovered after 1 unhealthy answer (5m down)");
}

TEST_F(EngineTest, LatencyAboveFiresWhenEveryAnswerExceedsForTheDuration) {
  Start(R"(
policies:
  - { name: slow, match: { id: [c1] }, when: { event: latency_above, threshold: 2s, for: 1m },
      action: { purge: connection }, cooldown: 0s }
)");
  struct StepCase {
    double latency;
    Strings want;
  };
  const std::vector<StepCase> steps = {
      {2.5, {}}, {2.5, {}}, {2.4, {"slow c1 perform"}},  // 0s, 30s, 60s above
      {3.0, {}},                                         // still holding
      {1.0, {}},                                         // one answer below resets
      {2.5, {}}, {2.5, {}}, {2.0, {}},                   // exactly the threshold is not above
      {2.5, {}}, {2.5, {}}, {2.5, {"slow c1 perform"}},
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(Step("c1", true, steps[i].latency), steps[i].want) << "answer " << i;
    Advance(30s);
  }
  EXPECT_EQ(last_[0].trigger, "latency above 2s for 1m (3 answers, latest 2.5s)");
}

TEST_F(EngineTest, LatencyRunIsNotResetByFailedChecks) {
  Start(R"(
policies:
  - { name: slow, match: { id: [c1] }, when: { event: latency_above, threshold: 2s, for: 1m },
      action: { purge: connection } }
)");
  Step("c1", true, 3.0);
  Advance(30s);
  Fail("c1");
  EXPECT_EQ(Eval(), Strings{});
  Advance(30s);
  EXPECT_EQ(Step("c1", true, 3.0), Strings{"slow c1 perform"});
}

TEST_F(EngineTest, MatchSelectsConnectionsByNameIdAndSourceTypeGlobs) {
  struct Case {
    std::string match;
    Strings want;
  };
  const std::vector<Case> cases = {
      {"{}", {"p c1 perform", "p c2 perform", "p c3 perform", "p c4 perform"}},
      {"{ name: [\"prod-*\"] }", {"p c1 perform", "p c2 perform", "p c4 perform"}},
      {"{ name: [\"prod-*\"], source_type: [postgres] }", {"p c1 perform", "p c2 perform"}},
      {"{ id: [\"c[34]\"] }", {"p c3 perform", "p c4 perform"}},
      {"{ source_type: [mysql, \"snow*\"] }", {"p c4 perform"}},
      {"{ name: [\"nothing-*\"] }", {}},
  };
  for (const auto& c : cases) {
    t = kT0;
    Start("safety: { pause_min_connections: 10 }\npolicies:\n  - { name: p, match: " + c.match +
          ", when: { event: unhealthy, after_failures: 1 }, action: { purge: connection } }\n");
    AllAnswer(false);
    EXPECT_EQ(Eval(), c.want) << c.match;
  }
}

TEST_F(EngineTest, PoliciesKeepTheirOwnEpisodes) {
  Start(R"(
policies:
  - { name: fast, match: { id: [c1] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection } }
  - { name: slow, match: { id: [c1] }, when: { event: unhealthy, after_failures: 2 },
      action: { purge: connection } }
)");
  EXPECT_EQ(Step("c1", false), Strings{"fast c1 perform"});
  Advance(30s);
  EXPECT_EQ(Step("c1", false), Strings{"slow c1 perform"});
}

}  // namespace
}  // namespace hdm::policy::testing
