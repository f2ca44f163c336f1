#include "health/scheduler.h"

#include <gtest/gtest.h>

#include "health/executor.h"
#include "in_memory_api.h"

namespace hdm {
namespace {

using namespace std::chrono_literals;
using hotdata::ApiError;
using hotdata::ErrorKind;

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerConfig Config(int concurrency = 4) {
    SchedulerConfig c;
    c.interval = 30s;
    c.discovery_interval = 5min;
    c.concurrency = concurrency;
    return c;
  }
  void List(std::initializer_list<std::string> ids) {
    std::vector<hotdata::ConnectionInfo> list;
    for (const auto& id : ids) list.push_back({id, "name-" + id, "postgres"});
    api_.SetList(std::move(list));
  }
  // Ticks and runs every task, advancing the clock past each ramp step.
  void RunRound(Scheduler& s) {
    for (int i = 0; i < 100; ++i) {
      s.Tick();
      exec_.RunAll();
      clock_.Advance(100ms);
    }
  }
  const ConnectionState* Find(const FleetSnapshot& snap, const std::string& id) {
    for (const auto& c : snap.connections) {
      if (c.info.id == id) return &c;
    }
    return nullptr;
  }

  FakeClock clock_;
  testing::InMemoryApi api_;
  ManualExecutor exec_{api_};
};

TEST_F(SchedulerTest, NotReadyBeforeFirstDiscoveryThenChecksEveryConnection) {
  List({"a", "b", "c"});
  Scheduler s(clock_, exec_, Config());
  EXPECT_FALSE(s.Ready());
  s.Tick();
  EXPECT_EQ(exec_.Pending(), 1u);  // the list call
  EXPECT_FALSE(s.Ready());
  exec_.RunOne();
  EXPECT_TRUE(s.Ready());
  RunRound(s);
  auto snap = s.Snapshot();
  ASSERT_EQ(snap.connections.size(), 3u);
  for (const auto& c : snap.connections) {
    EXPECT_TRUE(c.checked);
    EXPECT_TRUE(c.check_success);
    EXPECT_EQ(c.healthy, true);
    EXPECT_EQ(c.table_count, 7);
    EXPECT_EQ(c.synced_table_count, 5);
  }
  EXPECT_EQ(snap.rounds_completed, 1u);
  EXPECT_EQ(api_.HealthCalls("a"), 1);
}

TEST_F(SchedulerTest, FirstChecksOfARoundAreSpreadOverTheRamp) {
  List({"a", "b", "c", "d"});
  Scheduler s(clock_, exec_, Config(4));  // ramp 1s over 4 slots: one start every 250ms
  s.Tick();
  exec_.RunOne();  // list; the round starts and its first check is posted at once
  EXPECT_EQ(exec_.Pending(), 1u);
  s.Tick();
  EXPECT_EQ(exec_.Pending(), 1u);
  clock_.Advance(250ms);
  s.Tick();
  EXPECT_EQ(exec_.Pending(), 2u);
  clock_.Advance(500ms);
  s.Tick();
  EXPECT_EQ(exec_.Pending(), 4u);
}

TEST_F(SchedulerTest, NeverMoreThanConcurrencyCallsInFlight) {
  std::vector<hotdata::ConnectionInfo> list;
  for (int i = 0; i < 20; ++i) list.push_back({"c" + std::to_string(i), "n", "postgres"});
  api_.SetList(list);
  Scheduler s(clock_, exec_, Config(3));
  s.Tick();
  exec_.RunOne();
  clock_.Advance(2s);  // past the ramp
  s.Tick();
  size_t max_pending = 0;
  while (exec_.Pending() > 0) {
    max_pending = std::max(max_pending, exec_.Pending());
    exec_.RunOne();
  }
  EXPECT_EQ(max_pending, 3u);
  EXPECT_EQ(s.Snapshot().rounds_completed, 1u);
}

TEST_F(SchedulerTest, UnhealthyAnswersCountAndFailedChecksNeitherAddNorReset) {
  List({"a"});
  api_.SetHealth("a", false);
  Scheduler s(clock_, exec_, Config());
  RunRound(s);
  clock_.Advance(30s);
  RunRound(s);
  auto st = *Find(s.Snapshot(), "a");
  EXPECT_EQ(st.healthy, false);
  EXPECT_EQ(st.consecutive_failures, 2);

  api_.FailHealth("a", ApiError{.kind = ErrorKind::kHttpStatus, .status = 503});
  clock_.Advance(30s);
  RunRound(s);
  st = *Find(s.Snapshot(), "a");
  EXPECT_FALSE(st.check_success);
  EXPECT_EQ(st.healthy, false);  // unchanged: the API failing is not the connection failing
  EXPECT_EQ(st.consecutive_failures, 2);
  EXPECT_EQ(st.last_check_error_code, "503");

  api_.SetHealth("a", true);
  clock_.Advance(30s);
  RunRound(s);
  st = *Find(s.Snapshot(), "a");
  EXPECT_EQ(st.healthy, true);
  EXPECT_EQ(st.consecutive_failures, 0);
  EXPECT_FALSE(st.unhealthy_since.has_value());
}

TEST_F(SchedulerTest, HealthyIsAbsentUntilTheFirstValidAnswer) {
  List({"a"});
  api_.FailHealth("a", ApiError{.kind = ErrorKind::kTimeout});
  Scheduler s(clock_, exec_, Config());
  RunRound(s);
  auto st = *Find(s.Snapshot(), "a");
  EXPECT_TRUE(st.checked);
  EXPECT_FALSE(st.check_success);
  EXPECT_FALSE(st.healthy.has_value());
  EXPECT_EQ(st.last_check_error_code, "timeout");
}

TEST_F(SchedulerTest, AConnectionThatLeftTheListLosesItsState) {
  List({"a", "b"});
  Scheduler s(clock_, exec_, Config());
  RunRound(s);
  List({"a"});
  clock_.Advance(5min);
  RunRound(s);
  auto snap = s.Snapshot();
  ASSERT_EQ(snap.connections.size(), 1u);
  EXPECT_EQ(snap.connections[0].info.id, "a");
}

TEST_F(SchedulerTest, AFailedListKeepsTheKnownSetAndRetriesWithinAnInterval) {
  List({"a", "b"});
  Scheduler s(clock_, exec_, Config());
  RunRound(s);
  api_.FailList(ApiError{.kind = ErrorKind::kInvalidResponse, .status = 200});
  clock_.Advance(5min);
  RunRound(s);
  auto snap = s.Snapshot();
  EXPECT_EQ(snap.connections.size(), 2u);
  EXPECT_EQ(snap.discoveries_failed, 1u);
  const int calls = api_.ListCalls();
  clock_.Advance(30s);
  RunRound(s);
  EXPECT_EQ(api_.ListCalls(), calls + 1);
}

TEST_F(SchedulerTest, RoundsRepeatEveryInterval) {
  List({"a"});
  Scheduler s(clock_, exec_, Config());
  RunRound(s);  // 10 s of fake time
  EXPECT_EQ(api_.HealthCalls("a"), 1);
  clock_.Advance(20s);
  RunRound(s);
  EXPECT_EQ(api_.HealthCalls("a"), 2);
  EXPECT_EQ(s.Snapshot().rounds_completed, 2u);
}

TEST_F(SchedulerTest, AnOverrunIsCountedAndNothingIsQueuedTwice) {
  List({"a", "b"});
  Scheduler s(clock_, exec_, Config(1));
  s.Tick();
  exec_.RunOne();  // list; the first check is now in flight and stays there
  clock_.Advance(31s);
  s.Tick();
  EXPECT_EQ(s.Snapshot().rounds_overrun, 1u);
  exec_.RunAll();
  EXPECT_EQ(api_.HealthCalls("a"), 1);
  EXPECT_EQ(api_.HealthCalls("b"), 1);
}

TEST_F(SchedulerTest, RetryAfterPastTheIntervalSkipsTheConnectionUntilThen) {
  List({"a"});
  api_.FailHealth("a", ApiError{.kind = ErrorKind::kHttpStatus,
                                .status = 429,
                                .retry_after = std::chrono::milliseconds(90'000)});
  Scheduler s(clock_, exec_, Config());
  RunRound(s);  // t = 10 s
  EXPECT_EQ(api_.HealthCalls("a"), 1);
  clock_.Advance(20s);
  RunRound(s);  // round at 30 s: not before 90 s
  clock_.Advance(20s);
  RunRound(s);  // round at 60 s
  EXPECT_EQ(api_.HealthCalls("a"), 1);
  clock_.Advance(20s);
  RunRound(s);  // round at 90 s
  EXPECT_EQ(api_.HealthCalls("a"), 2);
}

TEST_F(SchedulerTest, ANewConnectionIsCheckedAtOnce) {
  List({"a"});
  Scheduler s(clock_, exec_, Config());
  RunRound(s);
  List({"a", "b"});
  clock_.Advance(5min - 10s);
  s.Tick();
  exec_.RunAll();
  EXPECT_EQ(api_.HealthCalls("b"), 1);
}

TEST_F(SchedulerTest, ReconfigureAppliesFiltersToTheKnownList) {
  List({"a", "b"});
  Scheduler s(clock_, exec_, Config());
  RunRound(s);
  auto c = Config();
  c.exclude = Selector{.id = {"b"}};
  s.Reconfigure(c);
  auto snap = s.Snapshot();
  ASSERT_EQ(snap.connections.size(), 1u);
  EXPECT_EQ(snap.connections[0].info.id, "a");
}

// A burst of reloads (each one Reconfigure) while profile fetches wait must not queue every
// watched table again each time: at most one fetch per table is queued or in flight.
TEST_F(SchedulerTest, ABurstOfReconfiguresQueuesAtMostOneProfileFetchPerTable) {
  List({"a", "b"});
  Scheduler s(clock_, exec_, Config());
  s.SetTables({{.connection = "a", .table = {"public", "orders"}},
               {.connection = "name-b", .table = {"public", "users"}}});
  RunRound(s);
  ASSERT_EQ(api_.ProfileCalls(), 2);  // after the first discovery
  for (int i = 0; i < 50; ++i) s.Reconfigure(Config());
  EXPECT_EQ(s.QueuedProfileFetches(), 2u);
  RunRound(s);
  EXPECT_EQ(s.QueuedProfileFetches(), 0u);
  EXPECT_EQ(api_.ProfileCalls(), 4) << "one more fetch per table, not 50";
}

TEST_F(SchedulerTest, CheckListenerSeesEveryResult) {
  List({"a"});
  api_.SetHealth("a", false);
  Scheduler s(clock_, exec_, Config());
  std::vector<CheckEvent> events;
  s.SetCheckListener([&](const CheckEvent& e) { events.push_back(e); });
  RunRound(s);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].answered);
  EXPECT_EQ(events[0].state.healthy, false);
}

}  // namespace
}  // namespace hdm
