// Outcomes: permanent marks, the one retry of a transient failure, failed purges, reloads.
#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace hdm::policy::testing {
namespace {

constexpr char kTwoPolicies[] = R"(
safety: { pause_min_connections: 10 }
policies:
  - { name: p, when: { event: unhealthy, after_failures: 1 }, action: { purge: connection }, cooldown: 0s }
  - { name: q, match: { id: [c1] }, when: { event: recovered, after_failures: 1 },
      action: { purge: connection }, cooldown: 0s }
)";

TEST_F(EngineTest, PermanentErrorMarksTheTargetForEveryPolicyUntilTheConfigChanges) {
  Start(kTwoPolicies);
  Answer("c1", false);
  EXPECT_EQ(Eval(OutcomeKind::kPermanentError), Strings{"p c1 perform"});
  // The recovered policy targets the same connection: held back too. c2 is not marked.
  Answer("c1", true);
  Answer("c2", false);
  EXPECT_EQ(Eval(), (Strings{"q c1 suppressed:permanent_error", "p c2 perform"}));
  EXPECT_EQ(last_[0].detail, "marked permanent at 2023-11-14T22:13:20Z by policy p: msg");
  // A reload of the same file changes nothing.
  engine_->Reconfigure(ConfigFrom(kTwoPolicies));
  Answer("c1", false);
  EXPECT_EQ(Eval(), Strings{"p c1 suppressed:permanent_error"});
  // A changed config clears the mark.
  Answer("c1", true);
  Eval();
  engine_->Reconfigure(ConfigFrom(std::string(kTwoPolicies) + "scheduler: { interval: 20s }\n"));
  EXPECT_EQ(Step("c1", false), Strings{"p c1 suppressed:permanent_error"})
      << "the scheduler interval is not part of what a mark depends on";
  Step("c1", true);
  engine_->Reconfigure(ConfigFrom(R"(
safety: { pause_min_connections: 10 }
policies:
  - { name: p, match: { name: ["*"] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection }, cooldown: 0s }
)"));
  EXPECT_EQ(Step("c1", false), Strings{"p c1 perform"});
}

TEST_F(EngineTest, PermanentMarkSurvivesARestartWithTheSameConfigOnly) {
  Start(kTwoPolicies);
  Answer("c1", false);
  Eval(OutcomeKind::kPermanentError);
  Step("c1", true);
  Restart();
  EXPECT_EQ(Step("c1", false), Strings{"p c1 suppressed:permanent_error"});
  Step("c1", true);
  Restart(R"(
safety: { pause_min_connections: 10 }
policies:
  - { name: p, when: { event: unhealthy, after_failures: 1 }, action: { purge: connection }, cooldown: 0s }
)");
  EXPECT_EQ(Step("c1", false), Strings{"p c1 perform"});
}

TEST_F(EngineTest, TransientFailureIsRetriedOnceOneIntervalLaterAndTheRetrySpendsBudget) {
  Start(R"(
scheduler: { interval: 30s }
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection }, cooldown: 10m }
)");
  Answer("c1", false);
  EXPECT_EQ(Eval(OutcomeKind::kTransientError), Strings{"p c1 perform"});
  EXPECT_EQ(engine_->Export().cooldown_until.count(PolicyKey{"p", {"c1"}}), 0u)
      << "a transient failure starts no cooldown";
  EXPECT_EQ(engine_->NextDue(), t + 30s);
  Advance(29s);
  EXPECT_EQ(Eval(), Strings{});
  Advance(1s);
  EXPECT_EQ(Eval(OutcomeKind::kTransientError), Strings{"p c1 perform +retry"});
  EXPECT_EQ(last_[0].trigger,
            "retry after a transient failure; unhealthy for 0s (1 unhealthy answer)");
  EXPECT_EQ(engine_->Export().budget_spends.size(), 2u);
  // The retry failed too: no second retry.
  for (int i = 0; i < 10; ++i) {
    Advance(30s);
    EXPECT_EQ(Eval(), Strings{});
  }
}

TEST_F(EngineTest, RetrySucceedsAndStartsTheCooldown) {
  Start(R"(
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection }, cooldown: 10m }
)");
  Answer("c1", false);
  Eval(OutcomeKind::kTransientError);
  Advance(30s);
  EXPECT_EQ(Eval(), Strings{"p c1 perform +retry"});
  EXPECT_EQ(engine_->Export().cooldown_until.at(PolicyKey{"p", {"c1"}}), t + 10min);
}

TEST_F(EngineTest, RetryPassesTheSafetiesAgain) {
  Start(R"(
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection } }
)");
  Answer("c1", false);
  Eval(OutcomeKind::kTransientError);
  Advance(30s);
  AllAnswer(false);  // an outage pause by the time the retry is due
  EXPECT_EQ(Eval(), Strings{"p c1 suppressed:outage_pause +retry"});
  Advance(30s);
  AllAnswer(true);
  EXPECT_EQ(Eval(), Strings{});  // held back means dropped, not postponed
}

TEST_F(EngineTest, FailedPurgeIsNotRetriedButStartsTheCooldown) {
  Start(R"(
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection }, cooldown: 10m }
)");
  Answer("c1", false);
  EXPECT_EQ(Eval(OutcomeKind::kFailed), Strings{"p c1 perform"});
  Advance(30s);
  EXPECT_EQ(Eval(), Strings{});
  Step("c1", true);
  EXPECT_EQ(Step("c1", false), Strings{"p c1 suppressed:cooldown"});
}

TEST_F(EngineTest, ReconfigureRestartsTheEpisodesOfChangedPoliciesOnly) {
  const std::string before = R"(
policies:
  - { name: a, match: { id: [c1] }, when: { event: unhealthy, after_failures: 2 }, action: { purge: connection } }
  - { name: b, match: { id: [c1] }, when: { event: unhealthy, after_failures: 2 }, action: { purge: connection } }
)";
  Start(before);
  Step("c1", false);
  // b now needs 3 answers: its run restarts; a keeps counting. Dry-run changes do not restart.
  engine_->Reconfigure(ConfigFrom(R"(
policies:
  - { name: a, match: { id: [c1] }, when: { event: unhealthy, after_failures: 2 },
      action: { purge: connection }, dry_run: true }
  - { name: b, match: { id: [c1] }, when: { event: unhealthy, after_failures: 3 }, action: { purge: connection } }
)"));
  EXPECT_EQ(Step("c1", false), Strings{"a c1 dry_run"});
  EXPECT_EQ(Step("c1", false), Strings{});
  EXPECT_EQ(Step("c1", false), Strings{"b c1 perform"});
}

TEST_F(EngineTest, StatusShowsEpisodeCooldownPermanentAndRetry) {
  Start(R"(
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection }, cooldown: 10m }
  - { name: other, match: { id: [c2] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection } }
)");
  Answer("c1", false);
  Eval();
  const auto status = engine_->StatusFor("c1", t);
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].policy, "p");
  EXPECT_TRUE(status[0].episode_open);
  EXPECT_TRUE(status[0].episode_fired);
  EXPECT_EQ(status[0].cooldown_until, t + 10min);
  EXPECT_FALSE(status[0].permanent.has_value());
  const nlohmann::json j = StatusToJson(status);
  EXPECT_EQ(j[0]["cooldown_until"], "2023-11-14T22:23:20Z");
  EXPECT_EQ(j[0]["episode"]["since"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(j[0]["permanent_error"], nullptr);
}

}  // namespace
}  // namespace hdm::policy::testing
