// issue #13 item 4: while the monitor's own requests to the API fail (connection errors,
// timeouts, 5xx), purges are held with reason api_unreachable: no budget spent, no cooldown
// started, audited like every suppression.
#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace hdm::policy::testing {
namespace {

constexpr char kEverySchedule[] = R"(
scheduler: { interval: 30s }
safety: { max_purges_per_hour: 2 }
policies:
  - { name: sched, match: { id: [c1] }, when: { event: schedule, every: 1m },
      action: { purge: connection }, cooldown: 5m }
)";

class UnreachableTest : public EngineTest {
 protected:
  // A failed check of `id` with the metric code the scheduler records ("timeout", "503", ...).
  void FailWith(const std::string& id, const std::string& code) {
    CheckEvent e{.state = Fleet(id), .answered = false, .at = t};
    e.state.check_success = false;
    e.state.last_check_error_code = code;
    e.state.last_check_error = code == "timeout" ? "timeout after 15s" : "HTTP " + code;
    engine_->OnCheck(e);
  }
  void EveryoneFails(const std::string& code) {
    for (const auto& c : fleet_) FailWith(c.info.id, code);
  }
};

TEST_F(UnreachableTest, EveryRequestFailingHoldsPurgesWithoutSpendingBudgetOrCooldown) {
  Start(kEverySchedule);
  EXPECT_EQ(Eval(), Strings{});
  // Answers, then every check fails for longer than one interval.
  AllAnswer(true);
  Advance(30s);
  EveryoneFails("connection_error");
  Advance(30s);  // the schedule is due (1m after the first evaluation); no answer for 1 interval
  EveryoneFails("timeout");
  EXPECT_EQ(Eval(), Strings{"sched c1 suppressed:api_unreachable"});
  EXPECT_NE(last_[0].detail.find("the API is unreachable"), std::string::npos) << last_[0].detail;
  EXPECT_NE(last_[0].detail.find("timeout"), std::string::npos) << last_[0].detail;
  Advance(1min);
  EveryoneFails("503");
  EXPECT_EQ(Eval(), Strings{"sched c1 suppressed:api_unreachable"});
  // Nothing was spent: as soon as an answer comes, the next point purges, then the next one
  // (the budget of 2 was not touched by the held ones) would be in cooldown.
  EXPECT_TRUE(engine_->Export().budget_spends.empty());
  EXPECT_TRUE(engine_->Export().cooldown_until.empty());
  Advance(1min);
  Answer("c2", true);
  EXPECT_EQ(Eval(), Strings{"sched c1 perform"});
  EXPECT_EQ(engine_->Export().budget_spends.size(), 1u);
}

TEST_F(UnreachableTest, ItGoesBeforeTheOtherSafetiesAndHoldsDryRunsToo) {
  Start(R"(
scheduler: { interval: 30s }
safety: { dry_run: true }
policies:
  - { name: sched, match: { id: [c1] }, when: { event: schedule, every: 1m },
      action: { purge: connection } }
)");
  EXPECT_EQ(Eval(), Strings{});
  Advance(1min);
  EveryoneFails("502");
  EXPECT_EQ(Eval(), Strings{"sched c1 suppressed:api_unreachable"});
  EXPECT_TRUE(engine_->Export().cooldown_until.empty());
}

TEST_F(UnreachableTest, OnlyTheseFailuresCountAndOneAnswerWithinAnIntervalKeepsItReachable) {
  Start(kEverySchedule);
  EXPECT_EQ(Eval(), Strings{});
  AllAnswer(true);
  Advance(59s);
  // 404, 401 and a body that does not decode: the API answered.
  FailWith("c1", "404");
  FailWith("c2", "401");
  FailWith("c3", "invalid_response");
  Advance(1s);
  EXPECT_EQ(Eval(), Strings{"sched c1 perform"});
  // One connection's checks time out while the others answer: the API is reachable.
  Advance(50s);
  Answer("c2", true);
  FailWith("c1", "timeout");
  Advance(10s);
  FailWith("c1", "timeout");
  Advance(5min);  // past the cooldown; c2 answers on
  Answer("c2", true);
  FailWith("c1", "timeout");
  EXPECT_EQ(Eval(), Strings{"sched c1 perform"});
}

TEST_F(UnreachableTest, APurgeThatFailedForTheSameReasonCountsAndARetryWaitsForTheApi) {
  Start(R"(
scheduler: { interval: 30s }
safety: { max_purges_per_hour: 2 }
policies:
  - { name: sched, match: { id: [c1] }, when: { event: schedule, every: 10m },
      action: { purge: connection }, cooldown: 5m }
)");
  EXPECT_EQ(Eval(), Strings{});
  AllAnswer(true);
  Advance(10min);
  // The purge goes out while the API still looks fine, and fails with a 503.
  last_ = engine_->Evaluate(t);
  ASSERT_EQ(Summaries(last_), Strings{"sched c1 perform"});
  engine_->OnOutcome(
      last_[0],
      Outcome{.kind = OutcomeKind::kTransientError, .message = "HTTP 503", .unreachable = true}, t);
  // Every check fails from now on. The retry, due one interval later, is held: reported once,
  // kept, and spends nothing.
  Advance(30s);
  EveryoneFails("503");
  EXPECT_EQ(Eval(), Strings{"sched c1 suppressed:api_unreachable +retry"});
  for (int i = 0; i < 3; ++i) {
    Advance(30s);
    EveryoneFails("timeout");
    EXPECT_EQ(Eval(), Strings{}) << i;
  }
  EXPECT_EQ(engine_->Export().budget_spends.size(), 1u);
  EXPECT_TRUE(engine_->Export().cooldown_until.empty());
  // The API answers again: the retry goes out.
  Advance(30s);
  Answer("c3", true);
  EXPECT_EQ(Eval(), Strings{"sched c1 perform +retry"});
  EXPECT_NE(last_[0].trigger.find("retry after a transient failure; "), std::string::npos);
  EXPECT_EQ(last_[0].trigger.find("retry after a transient failure; retry"), std::string::npos)
      << last_[0].trigger;
}

}  // namespace
}  // namespace hdm::policy::testing
