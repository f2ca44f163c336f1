#include "policy/runner.h"

#include <gtest/gtest.h>

#include "purge_api.h"

namespace hdm::policy::testing {
namespace {

using hotdata::ApiError;
using hotdata::ErrorKind;

Decision Perform(std::optional<TableRef> table = std::nullopt) {
  return Decision{.id = 1,
                  .policy = "p",
                  .action = table ? PurgeKind::kTable : PurgeKind::kConnection,
                  .target = {.connection_id = "c1", .connection_name = "prod-a", .table = table},
                  .trigger = "recovered after 3 unhealthy answers (1m30s down)",
                  .verdict = Verdict::kPerform};
}

TEST(ClassifyPurgeErrorTest, MapsEveryKindOfError) {
  struct Case {
    ApiError error;
    OutcomeKind want;
  };
  const std::vector<Case> cases = {
      {{.kind = ErrorKind::kHttpStatus, .status = 400}, OutcomeKind::kPermanentError},
      {{.kind = ErrorKind::kHttpStatus, .status = 409}, OutcomeKind::kPermanentError},
      {{.kind = ErrorKind::kHttpStatus, .status = 500}, OutcomeKind::kTransientError},
      {{.kind = ErrorKind::kHttpStatus, .status = 502}, OutcomeKind::kTransientError},
      {{.kind = ErrorKind::kHttpStatus, .status = 503}, OutcomeKind::kTransientError},
      {{.kind = ErrorKind::kHttpStatus, .status = 429}, OutcomeKind::kTransientError},
      {{.kind = ErrorKind::kTimeout}, OutcomeKind::kTransientError},
      {{.kind = ErrorKind::kConnection}, OutcomeKind::kTransientError},
      // Cancelled (shutdown) before the request went out: nothing reached the API, retry it.
      {{.kind = ErrorKind::kCancelled}, OutcomeKind::kTransientError},
      // Cancelled once it was on its way: the API may have purged (issue #13 item 5).
      {{.kind = ErrorKind::kCancelled, .request_sent = true}, OutcomeKind::kUnknown},
      {{.kind = ErrorKind::kHttpStatus, .status = 404}, OutcomeKind::kFailed},
      {{.kind = ErrorKind::kHttpStatus, .status = 401}, OutcomeKind::kFailed},
      {{.kind = ErrorKind::kHttpStatus, .status = 403}, OutcomeKind::kFailed},
      {{.kind = ErrorKind::kInvalidResponse, .status = 200}, OutcomeKind::kFailed},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ClassifyPurgeError(c.error).kind, c.want) << c.error.ToString();
  }
}

class RunnerTest : public ::testing::Test {
 protected:
  PurgeApi api_;
  AuditLog audit_;
  FakeClock clock_;
  PolicyRunner runner_{api_, audit_, clock_};
};

TEST_F(RunnerTest, PerformsAConnectionPurgeAndAuditsSuccess) {
  const auto outcome = runner_.Execute(Perform());
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->kind, OutcomeKind::kSuccess);
  EXPECT_EQ(api_.Calls(), std::vector<std::string>{"connection c1"});
  const auto entries = audit_.Entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].outcome, AuditOutcome::kSuccess);
  EXPECT_EQ(entries[0].time, clock_.Now());
}

TEST_F(RunnerTest, PerformsATablePurge) {
  runner_.Execute(Perform(TableRef{.schema = "eu.sales", .table = "Order Items"}));
  EXPECT_EQ(api_.Calls(), std::vector<std::string>{"table c1 eu.sales.Order Items"});
}

TEST_F(RunnerTest, FailedPurgeIsAuditedWithTheErrorAndClassified) {
  api_.Script({std::unexpected(ApiError{.kind = ErrorKind::kHttpStatus,
                                        .status = 409,
                                        .code = "CONFLICT",
                                        .message = "connection backs a default catalog"})});
  const auto outcome = runner_.Execute(Perform());
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->kind, OutcomeKind::kPermanentError);
  const auto entries = audit_.Entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].outcome, AuditOutcome::kFailed);
  EXPECT_NE(entries[0].detail.find("409"), std::string::npos) << entries[0].detail;
  EXPECT_NE(entries[0].detail.find("not tried again until the config changes"), std::string::npos);
}

TEST_F(RunnerTest, DryRunAndSuppressedAreAuditedWithoutCallingTheApi) {
  Decision dry = Perform();
  dry.verdict = Verdict::kDryRun;
  Decision held = Perform();
  held.verdict = Verdict::kSuppressed;
  held.reason = SuppressReason::kBudget;
  held.detail = "budget spent";
  EXPECT_FALSE(runner_.Execute(dry).has_value());
  EXPECT_FALSE(runner_.Execute(held).has_value());
  EXPECT_TRUE(api_.Calls().empty());
  const auto entries = audit_.Entries();  // most recent first
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].outcome, AuditOutcome::kSuppressed);
  EXPECT_EQ(entries[0].reason, SuppressReason::kBudget);
  EXPECT_EQ(entries[0].detail, "budget spent");
  EXPECT_EQ(entries[1].outcome, AuditOutcome::kDryRun);
}

}  // namespace
}  // namespace hdm::policy::testing
