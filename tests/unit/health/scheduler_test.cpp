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
  // Ticks every 100 ms of fake time for `d`, running every task at once: ticks at now, now +
  // 100 ms, ..., now + d - 100 ms; the clock ends at now + d.
  void RunFor(Scheduler& s, std::chrono::milliseconds d) {
    for (auto t = 0ms; t < d; t += 100ms) {
      s.Tick();
      exec_.RunAll();
      clock_.Advance(100ms);
    }
  }
  // Five connections, checked every second, listed every two.
  void FiveEverySecond() {
    List({"c1", "c2", "c3", "c4", "c5"});
    config_.interval = 1s;
    config_.discovery_interval = 2s;
  }
  int HealthCalls() const {
    int n = 0;
    for (const char* id : {"c1", "c2", "c3", "c4", "c5"}) n += api_.HealthCalls(id);
    return n;
  }
  const ConnectionState* Find(const FleetSnapshot& snap, const std::string& id) {
    for (const auto& c : snap.connections) {
      if (c.info.id == id) return &c;
    }
    return nullptr;
  }

  FakeClock clock_;
  SchedulerConfig config_ = Config();
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

// hotdata_monitor_discoveries_total: every finished discovery, failed or not, so that it is the
// denominator of discoveries_failed.
TEST_F(SchedulerTest, CountsEveryFinishedDiscoveryFailedOrNot) {
  List({"a", "b"});
  Scheduler s(clock_, exec_, Config());
  EXPECT_EQ(s.Snapshot().discoveries, 0u);
  s.Tick();
  EXPECT_EQ(s.Snapshot().discoveries, 0u);  // in flight: not finished yet
  exec_.RunAll();
  EXPECT_EQ(s.Snapshot().discoveries, 1u);
  api_.FailList(ApiError{.kind = ErrorKind::kTimeout});
  clock_.Advance(5min);
  s.Tick();
  exec_.RunAll();
  auto snap = s.Snapshot();
  EXPECT_EQ(snap.discoveries, 2u);
  EXPECT_EQ(snap.discoveries_failed, 1u);
}

// hotdata_monitor_check_interval_seconds, _discovery_interval_seconds and shard_info read the
// scheduler's config, and follow a reload.
TEST_F(SchedulerTest, SnapshotCarriesTheIntervalsAndShardAndFollowsReconfigure) {
  SchedulerConfig c = Config();
  c.shard = {.index = 1, .count = 3};
  Scheduler s(clock_, exec_, c);
  auto snap = s.Snapshot();
  EXPECT_EQ(snap.check_interval_seconds, 30);
  EXPECT_EQ(snap.discovery_interval_seconds, 300);
  EXPECT_EQ(snap.shard_index, 1);
  EXPECT_EQ(snap.shard_count, 3);
  c.interval = 1500ms;
  c.discovery_interval = 1h;
  c.shard = {.index = 0, .count = 2};
  s.Reconfigure(c);
  snap = s.Snapshot();
  EXPECT_EQ(snap.check_interval_seconds, 1.5);
  EXPECT_EQ(snap.discovery_interval_seconds, 3600);
  EXPECT_EQ(snap.shard_index, 0);
  EXPECT_EQ(snap.shard_count, 2);
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

// Issue #13 item 1: rounds, discovery and Retry-After are due on the monotonic clock. The wall
// clock steps (NTP after a VM resumed, an RTC that ran ahead) while the monotonic one runs on.
TEST_F(SchedulerTest, ABackwardWallStepKeepsRoundsAndDiscoveryAtTheirIntervals) {
  FiveEverySecond();
  Scheduler s(clock_, exec_, config_);
  RunFor(s, 1s);  // t = 0: the first discovery and round
  ASSERT_EQ(HealthCalls(), 5);
  ASSERT_EQ(api_.ListCalls(), 1);
  clock_.StepWall(-1h);
  RunFor(s, 6s);  // rounds at 1, 2, ..., 6 s; discoveries at 2, 4, 6 s
  EXPECT_EQ(HealthCalls(), 5 + 6 * 5);
  for (const char* id : {"c1", "c2", "c3", "c4", "c5"}) EXPECT_EQ(api_.HealthCalls(id), 7) << id;
  EXPECT_EQ(api_.ListCalls(), 1 + 3);
  const FleetSnapshot snap = s.Snapshot();
  EXPECT_EQ(snap.rounds_completed, 7u);
  EXPECT_EQ(snap.rounds_overrun, 0u);
  // Timestamps stay wall-clock: the last check is stamped with the stepped clock.
  const ConnectionState* c1 = Find(snap, "c1");
  ASSERT_NE(c1, nullptr);
  EXPECT_LT(c1->last_check, clock_.Now());
  EXPECT_GE(c1->last_check, clock_.Now() - 1s);
  ASSERT_TRUE(snap.last_discovery.has_value());
  EXPECT_EQ(*snap.last_discovery, clock_.Now() - 1s);
}

TEST_F(SchedulerTest, AForwardWallStepStartsNothingEarlyAndNoBurstOfRounds) {
  FiveEverySecond();
  Scheduler s(clock_, exec_, config_);
  RunFor(s, 500ms);  // t = 0: the first discovery and round; the clock ends at 0.5 s
  ASSERT_EQ(HealthCalls(), 5);
  ASSERT_EQ(api_.ListCalls(), 1);
  clock_.StepWall(1h);
  // Due times are monotonic: the next thing due is the round at 1 s.
  EXPECT_EQ(s.Tick(), clock_.Mono() + 500ms);
  exec_.RunAll();
  EXPECT_EQ(HealthCalls(), 5) << "a round started 0.5 s early";
  EXPECT_EQ(api_.ListCalls(), 1) << "a discovery started 1.5 s early";
  RunFor(s, 5500ms);  // rounds at 1, 2, ..., 5 s; discoveries at 2, 4 s
  EXPECT_EQ(HealthCalls(), 5 + 5 * 5);
  EXPECT_EQ(api_.ListCalls(), 1 + 2);
  EXPECT_EQ(s.Snapshot().rounds_completed, 6u);
}

TEST_F(SchedulerTest, ADiscoveryRetryAfterAFailureIsDueOnTheMonotonicClock) {
  FiveEverySecond();
  config_.discovery_interval = 5min;
  Scheduler s(clock_, exec_, config_);
  RunFor(s, 1s);
  api_.FailList(ApiError{.kind = ErrorKind::kHttpStatus, .status = 503});
  clock_.Advance(5min - 1s);
  RunFor(s, 100ms);  // t = 5 min: the discovery fails; the retry is due a round later
  ASSERT_EQ(api_.ListCalls(), 2);
  ASSERT_EQ(s.Snapshot().discoveries_failed, 1u);
  api_.SetList({{"c1", "name-c1", "postgres"}});
  clock_.StepWall(-1h);
  RunFor(s, 1s);
  EXPECT_EQ(api_.ListCalls(), 3);
  EXPECT_EQ(s.Snapshot().connections.size(), 1u);
}

TEST_F(SchedulerTest, RetryAfterIsHonouredAcrossWallSteps) {
  for (const auto step : {-1h, 1h}) {
    SCOPED_TRACE(step.count());
    FakeClock clock;
    testing::InMemoryApi api;
    ManualExecutor exec(api);
    api.SetList({{"a", "name-a", "postgres"}, {"b", "name-b", "postgres"}});
    api.FailHealth("a", ApiError{.kind = ErrorKind::kHttpStatus,
                                 .status = 429,
                                 .retry_after = std::chrono::milliseconds(5'000)});
    auto config = Config();
    config.interval = 1s;
    Scheduler s(clock, exec, config);
    auto run_for = [&](std::chrono::milliseconds d) {
      for (auto t = 0ms; t < d; t += 100ms) {
        s.Tick();
        exec.RunAll();
        clock.Advance(100ms);
      }
    };
    run_for(1s);  // t = 0: "a" answers 429, Retry-After: 5 s
    ASSERT_EQ(api.HealthCalls("a"), 1);
    const FleetSnapshot snap = s.Snapshot();
    const ConnectionState* a = Find(snap, "a");
    ASSERT_NE(a, nullptr);
    // Shown as a wall-clock time (the status API): when the answer came, plus Retry-After.
    ASSERT_TRUE(a->not_before.has_value());
    EXPECT_EQ(*a->not_before, clock.Now() - 1s + 5s);
    api.SetHealth("a", true);
    clock.StepWall(step);
    run_for(4s);  // rounds at 1, 2, 3, 4 s: "a" is not asked before 5 s
    EXPECT_EQ(api.HealthCalls("a"), 1);
    EXPECT_EQ(api.HealthCalls("b"), 5);
    run_for(2s);  // rounds at 5 and 6 s
    EXPECT_EQ(api.HealthCalls("a"), 3);
    EXPECT_EQ(api.HealthCalls("b"), 7);
  }
}

TEST_F(SchedulerTest, ARoundsDurationIsMeasuredOnTheMonotonicClock) {
  List({"a"});
  Scheduler s(clock_, exec_, Config(1));
  s.Tick();
  exec_.RunOne();  // the list: the round starts, the check of "a" is in flight
  ASSERT_EQ(exec_.Pending(), 1u);
  clock_.Advance(200ms);
  clock_.StepWall(-1h);
  exec_.RunOne();  // the check finishes: the round is complete
  const FleetSnapshot snap = s.Snapshot();
  ASSERT_EQ(snap.rounds_completed, 1u);
  EXPECT_DOUBLE_EQ(snap.last_round_duration_seconds, 0.2);
  ASSERT_TRUE(snap.last_round_end.has_value());
  EXPECT_EQ(*snap.last_round_end, clock_.Now());  // a timestamp: wall-clock
}

TEST_F(SchedulerTest, TheRampOfARoundRunsOnTheMonotonicClock) {
  List({"a", "b", "c", "d"});
  Scheduler s(clock_, exec_, Config(4));  // ramp 1s over 4 slots: one start every 250ms
  s.Tick();
  exec_.RunOne();  // list; the round starts and its first check is posted at once
  ASSERT_EQ(exec_.Pending(), 1u);
  clock_.StepWall(1h);
  s.Tick();
  EXPECT_EQ(exec_.Pending(), 1u) << "the ramp's slots opened at the wall step";
  clock_.StepWall(-2h);
  clock_.Advance(250ms);
  s.Tick();
  EXPECT_EQ(exec_.Pending(), 2u) << "the ramp's next slot did not open";
}

TEST_F(SchedulerTest, ACheckEventCarriesTheWallAndTheMonotonicTimeOfOneInstant) {
  List({"a"});
  Scheduler s(clock_, exec_, Config(1));
  std::vector<CheckEvent> events;
  s.SetCheckListener([&](const CheckEvent& e) { events.push_back(e); });
  s.Tick();
  exec_.RunOne();  // the list: the check of "a" is in flight
  clock_.Advance(300ms);
  clock_.StepWall(-1h);
  exec_.RunOne();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at, clock_.Now());
  EXPECT_EQ(events[0].mono_at, clock_.Mono());
  EXPECT_EQ(events[0].state.last_check, clock_.Now());
}

}  // namespace
}  // namespace hdm
