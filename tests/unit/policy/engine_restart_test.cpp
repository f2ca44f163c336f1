// Export -> restart: cooldowns, budget, permanent marks, episodes, schedules and retries
// survive, also through the JSON of the state file.
#include <gtest/gtest.h>

#include "engine_fixture.h"
#include "policy/policy_state.h"

namespace hdm::policy::testing {
namespace {

// Restarts through the state file's JSON form, as the daemon does.
class RestartTest : public EngineTest {
 protected:
  void RestartThroughJson() {
    const nlohmann::json j = PolicyStateToJson(engine_->Export());
    auto state = PolicyStateFromJson(nlohmann::json::parse(j.dump()));
    ASSERT_TRUE(state.has_value()) << state.error();
    ASSERT_EQ(*state, engine_->Export());
    engine_ = std::make_unique<PolicyEngine>(config_, std::move(*state));
    engine_->OnDiscovery(fleet_, t);
  }
};

TEST_F(RestartTest, CooldownAndBudgetSurvive) {
  Start(R"(
safety: { max_purges_per_hour: 2, pause_min_connections: 10 }
policies:
  - { name: p, when: { event: unhealthy, after_failures: 1 }, action: { purge: connection }, cooldown: 30m }
)");
  Answer("c1", false);
  Answer("c2", false);
  ASSERT_EQ(Eval(), (Strings{"p c1 perform", "p c2 perform"}));
  Advance(10min);
  RestartThroughJson();
  Answer("c1", true);
  Answer("c3", false);
  Answer("c1", false);
  EXPECT_EQ(Eval(), (Strings{"p c3 suppressed:budget", "p c1 suppressed:cooldown"}));
}

TEST_F(RestartTest, FiredEpisodeDoesNotFireAgainAfterARestart) {
  Start(R"(
policies:
  - { name: u, match: { id: [c1] }, when: { event: unhealthy, after_failures: 2 }, action: { purge: connection }, cooldown: 0s }
  - { name: r, match: { id: [c1] }, when: { event: recovered, after_failures: 3 }, action: { purge: connection }, cooldown: 0s }
)");
  Step("c1", false);
  Advance(30s);
  ASSERT_EQ(Step("c1", false), Strings{"u c1 perform"});
  Advance(30s);
  RestartThroughJson();
  // The scheduler's own counters start again at zero; the engine's episodes do not.
  EXPECT_EQ(Step("c1", false), Strings{});
  Advance(30s);
  EXPECT_EQ(Step("c1", true), Strings{"r c1 perform"});
  EXPECT_EQ(last_[0].trigger, "recovered after 3 unhealthy answers (1m30s down)");
}

TEST_F(RestartTest, OverlappedPauseSurvives) {
  Start(R"(
policies:
  - { name: r, match: { id: [c1] }, when: { event: recovered, after_failures: 1 }, action: { purge: connection } }
)");
  AllAnswer(false);
  Eval();
  ASSERT_TRUE(engine_->OutagePaused());
  RestartThroughJson();
  EXPECT_FALSE(engine_->OutagePaused());  // judged afresh from new answers
  EXPECT_EQ(Step("c1", true), Strings{"r c1 suppressed:outage_pause"});
}

TEST_F(RestartTest, PendingRetrySurvives) {
  Start(R"(
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, after_failures: 1 }, action: { purge: connection } }
)");
  Answer("c1", false);
  Eval(OutcomeKind::kTransientError);
  Advance(10s);
  RestartThroughJson();
  Advance(20s);
  EXPECT_EQ(Eval(), Strings{"p c1 perform +retry"});
}

TEST_F(RestartTest, ScheduleLastFiringSurvivesTheJson) {
  Start(R"(
policies:
  - { name: s, match: { id: [c1] }, when: { event: schedule, every: 1h }, action: { purge: connection } }
)");
  Eval();
  t = kT0 + 1h;
  ASSERT_EQ(Eval(), Strings{"s c1 perform"});
  t = kT0 + 1h + 5min;
  RestartThroughJson();
  EXPECT_EQ(Eval(), Strings{});
  t = kT0 + 2h;
  EXPECT_EQ(Eval(), Strings{"s c1 perform"});
}

TEST_F(RestartTest, StateOfARemovedPolicyIsDropped) {
  Start(R"(
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, after_failures: 5 }, action: { purge: connection } }
  - { name: s, match: { id: [c1] }, when: { event: schedule, every: 1h }, action: { purge: connection } }
)");
  Eval();
  Step("c1", false);
  t = kT0 + 1h;
  Eval();
  ASSERT_EQ(engine_->Export().episodes.size(), 1u);
  ASSERT_EQ(engine_->Export().schedule_last_fire.size(), 1u);
  Restart("policies: []\n");
  EXPECT_TRUE(engine_->Export().episodes.empty());
  EXPECT_TRUE(engine_->Export().schedule_last_fire.empty());
  EXPECT_TRUE(engine_->Export().policy_fingerprints.empty());
}

TEST(PolicyStateJsonTest, RoundTripsEveryField) {
  PolicyState s;
  const SysTime t = kT0 + 123ms;
  s.cooldown_until[{"p", {"c1"}}] = t;
  s.cooldown_until[{"p", {"c1", "eu.sales", "Order Items"}}] = t + 1h;
  s.budget_spends = {t - 1min, t};
  s.permanent[{"c2"}] = {.policy = "q", .at = t, .message = "HTTP 409 CONFLICT: x"};
  s.permanent_fingerprint = "0123456789abcdef";
  s.policy_fingerprints["p"] = "fedcba9876543210";
  s.episodes[{"p", {"c1"}}] = {
      .since = t - 1min, .last = t, .answers = 3, .fired = true, .overlapped_pause = true};
  s.schedule_last_fire["s"] = t;
  s.retries[{"p", {"c3", "public", "orders"}}] = {.due = t, .connection_name = "n", .trigger = "x"};
  s.table_counts["c1"] = {.table_count = 7, .synced_table_count = std::nullopt};
  auto back = PolicyStateFromJson(nlohmann::json::parse(PolicyStateToJson(s).dump()));
  ASSERT_TRUE(back.has_value()) << back.error();
  EXPECT_EQ(*back, s);
}

TEST(PolicyStateJsonTest, RejectsMalformedDocumentsWithThePath) {
  struct Case {
    std::string json;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"[]", "policy state: expected an object"},
      {R"({"cooldowns": {}})", "policy state: cooldowns: expected a list"},
      {R"({"cooldowns": [{"policy": "p"}]})", "policy state: cooldowns[0].connection_id: missing"},
      {R"({"cooldowns": [{"policy": "p", "connection_id": "c", "until_ms": "soon"}]})",
       "policy state: cooldowns[0].until_ms: expected an integer"},
      {R"({"episodes": [{"policy": "p", "connection_id": "c", "since_ms": 1, "last_ms": 1,
           "answers": 1, "fired": 1, "overlapped_pause": false}]})",
       "policy state: episodes[0].fired: expected true or false"},
      {R"({"retries": [{"policy": "p", "connection_id": "c", "schema": "s", "due_ms": 1}]})",
       "policy state: retries[0]: schema without table"},
  };
  for (const auto& c : cases) {
    auto got = PolicyStateFromJson(nlohmann::json::parse(c.json));
    ASSERT_FALSE(got.has_value()) << c.json;
    EXPECT_EQ(got.error(), c.error);
  }
  EXPECT_TRUE(PolicyStateFromJson(nlohmann::json::object()).has_value());
}

}  // namespace
}  // namespace hdm::policy::testing
