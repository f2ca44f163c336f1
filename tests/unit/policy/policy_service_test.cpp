#include "policy/policy_service.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/time_format.h"
#include "engine_fixture.h"
#include "purge_api.h"
#include "state/state_file.h"

namespace hdm::policy::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kPolicy[] = R"(
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection }, cooldown: 30m }
  - { name: changed, match: { id: [c1] }, when: { event: tables_changed },
      action: { purge: connection }, cooldown: 0s }
)";

class PolicyServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hdm-policy-service-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "state.json").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<PolicyService> Make(PolicyServiceOptions options = {}) {
    auto api = std::make_unique<PurgeApi>();
    api_ = api.get();
    options.state_path = path_;
    return std::make_unique<PolicyService>(clock_, ConfigFrom(kPolicy), std::move(api),
                                           std::move(options));
  }
  // A new episode of c1: held back by the cooldown of the first purge.
  void Relapse(PolicyService& service) {
    clock_.Advance(std::chrono::minutes(1));
    service.OnCheck(Answer(true));
    service.OnCheck(Answer(false));
    service.RunOnce();
  }
  nlohmann::json AuditInFile() {
    auto doc = state::Load(path_, clock_.Now());
    EXPECT_TRUE(doc.has_value()) << doc.error().message;
    return doc ? (*doc)["audit"] : nlohmann::json();
  }
  CheckEvent Answer(bool healthy) {
    CheckEvent e{.state = Conn("c1", "prod-a"),
                 .answered = true,
                 .at = clock_.Now(),
                 .mono_at = clock_.Mono()};
    e.state.healthy = healthy;
    return e;
  }
  std::vector<ConnectionState> Fleet() { return {Conn("c1", "prod-a")}; }

  FakeClock clock_{kT0};
  fs::path dir_;
  std::string path_;
  PurgeApi* api_ = nullptr;
};

TEST_F(PolicyServiceTest, PerformsAuditsAndKeepsTheCooldownAcrossARestart) {
  std::vector<std::string> purged;
  PolicyServiceOptions options;
  options.on_purged = [&](const std::string& id, SysTime) { purged.push_back(id); };
  auto service = Make(options);
  EXPECT_FALSE(service->LoadProblem().has_value());
  service->OnDiscovery(Fleet(), clock_.Now());
  service->OnCheck(Answer(false));
  service->RunOnce();
  EXPECT_EQ(api_->Calls(), std::vector<std::string>{"connection c1"});
  EXPECT_EQ(purged, std::vector<std::string>{"c1"});
  auto actions = nlohmann::json::parse(service->ActionsJson())["actions"];
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0]["outcome"], "success");
  EXPECT_TRUE(fs::exists(path_)) << "a decision is saved at once";
  EXPECT_EQ(service->StatusJson("c1")[0]["cooldown_until"], "2023-11-14T22:43:20Z");
  service.reset();

  clock_.Advance(std::chrono::minutes(5));
  service = Make();
  service->OnDiscovery(Fleet(), clock_.Now());
  service->OnCheck(Answer(true));
  service->OnCheck(Answer(false));
  service->RunOnce();
  EXPECT_TRUE(api_->Calls().empty());
  actions = nlohmann::json::parse(service->ActionsJson())["actions"];
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0]["reason"], "cooldown");
  EXPECT_EQ(actions[1]["outcome"], "success") << "the audit trail of before the restart";
  const AuditCounters counters = service->Counters();
  EXPECT_EQ((counters.suppressed.at({"p", "cooldown"})), 1u);
  EXPECT_TRUE(counters.actions.empty()) << "counted by the run that made it, not again";
}

TEST_F(PolicyServiceTest, UnusableStateFileIsReportedSetAsideAndReplaced) {
  const std::vector<std::string> bad = {
      "{ not json",
      R"({"version": 1, "policy": {"cooldowns": 3}})",
  };
  for (const auto& content : bad) {
    std::ofstream(path_) << content;
    auto service = Make();
    ASSERT_TRUE(service->LoadProblem().has_value()) << content;
    EXPECT_NE(service->LoadProblem()->find("set aside as"), std::string::npos)
        << *service->LoadProblem();
    // Replaced at once by a state that holds every purge (policy_service_state_lost_test.cpp).
    EXPECT_TRUE(service->StateLost());
    EXPECT_TRUE(fs::exists(path_));
    ASSERT_TRUE(service->Save().has_value());
    EXPECT_TRUE(state::Load(path_, clock_.Now()).has_value());
    fs::remove(path_);
    clock_.Advance(std::chrono::seconds(1));
  }
  int set_aside = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.path().filename().string().starts_with("state.json.corrupt-")) ++set_aside;
  }
  EXPECT_EQ(set_aside, 2);
}

// A read error (EIO, injected through the state module's reader) is not a damaged file: the file
// stays where it is, is not overwritten, and its cooldown holds once it reads again.
TEST_F(PolicyServiceTest, AReadErrorNeverSetsTheFileAsideOrOverwritesIt) {
  {
    auto first = Make();
    first->OnDiscovery(Fleet(), clock_.Now());
    first->OnCheck(Answer(false));
    first->RunOnce();
    ASSERT_EQ(api_->Calls(), std::vector<std::string>{"connection c1"});
  }
  auto read = [&] {
    std::ifstream in(path_);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  };
  const std::string saved = read();
  clock_.Advance(std::chrono::minutes(1));
  const state::FileReader previous = state::SetFileReaderForTesting(
      [](const std::string&) -> std::expected<std::string, int> { return std::unexpected(EIO); });
  auto service = Make();
  ASSERT_TRUE(service->LoadProblem().has_value());
  EXPECT_EQ(*service->LoadProblem(), path_ + ": cannot read: Input/output error");
  service->OnDiscovery(Fleet(), clock_.Now());
  service->OnCheck(Answer(false));
  service->RunOnce();
  EXPECT_TRUE(api_->Calls().empty()) << "no purge while the cooldowns on disk are unknown";
  EXPECT_FALSE(service->Save().has_value()) << "a save would overwrite what it could not read";
  EXPECT_EQ(read(), saved) << "neither set aside nor overwritten";
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir_)) files.push_back(entry.path().filename());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"state.json", "state.json.lock"}));
  // Readable again: the cooldown of the first run holds the next episode.
  state::SetFileReaderForTesting(previous);
  Relapse(*service);
  EXPECT_TRUE(api_->Calls().empty());
  EXPECT_EQ(service->StatusJson("c1")[0]["cooldown_until"], "2023-11-14T22:43:20Z");
  EXPECT_TRUE(service->Save().has_value());
}

TEST_F(PolicyServiceTest, PolledFleetSnapshotsReachTheEngineAsDiscoveries) {
  FleetSnapshot snapshot;
  snapshot.discovered = true;
  snapshot.connections = Fleet();
  snapshot.connections[0].table_count = 1;
  snapshot.last_discovery = clock_.Now();
  PolicyServiceOptions options;
  options.fleet = [&] { return snapshot; };
  auto service = Make(options);
  service->RunOnce();
  snapshot.connections[0].table_count = 2;
  service->RunOnce();  // same discovery time, and within the poll interval: not seen again
  EXPECT_TRUE(api_->Calls().empty());
  clock_.Advance(PolicyService::kFleetPollInterval);
  snapshot.last_discovery = clock_.Now();
  service->RunOnce();
  EXPECT_EQ(api_->Calls(), std::vector<std::string>{"connection c1"});
  // A reload's filters drop c1 without a new discovery: the engine hears of it all the same.
  EXPECT_EQ(service->StatusJson("c1").size(), 2u);  // both policies match c1
  snapshot.connections.clear();
  clock_.Advance(PolicyService::kFleetPollInterval);
  service->RunOnce();
  EXPECT_TRUE(service->StatusJson("c1").empty());
}

// Every save fails while `<state>.tmp` is a directory, even for root: the state directory as
// good as read-only, without a mount or a permission that root would ignore.
void BlockSaves(const std::string& path) { fs::create_directories(path + ".tmp"); }

TEST_F(PolicyServiceTest, APurgeThatCannotBeWrittenAheadIsNotSentButRetriedOnceSaved) {
  int save_errors = 0;
  PolicyServiceOptions options;
  options.on_save_error = [&] { ++save_errors; };
  auto service = Make(options);
  service->OnDiscovery(Fleet(), clock_.Now());
  BlockSaves(path_);
  service->OnCheck(Answer(false));
  service->RunOnce();
  EXPECT_TRUE(api_->Calls().empty()) << "sent without its cooldown on disk";
  EXPECT_EQ(save_errors, 2) << "the write-ahead save and the save after the batch";
  auto actions = nlohmann::json::parse(service->ActionsJson())["actions"];
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0]["outcome"], "failed");
  const std::string detail = actions[0]["detail"];
  EXPECT_NE(detail.find("not sent: the state file could not be written ahead of the purge "
                        "(cannot write " +
                        path_ + ".tmp: Is a directory)"),
            std::string::npos)
      << detail;
  EXPECT_EQ((service->Counters().actions.at({"p", "purge_connection", "failed"})), 1u);
  const nlohmann::json status = service->StatusJson("c1")[0];
  EXPECT_TRUE(status["cooldown_until"].is_null()) << status;
  EXPECT_FALSE(status["retry_due"].is_null()) << status;

  // The directory is writable again: the one retry is written ahead, then sent.
  fs::remove(path_ + ".tmp");
  clock_.Advance(std::chrono::minutes(5));
  service->RunOnce();
  EXPECT_EQ(api_->Calls(), std::vector<std::string>{"connection c1"});
  EXPECT_EQ(save_errors, 2);
  auto doc = state::Load(path_, clock_.Now());
  ASSERT_TRUE(doc.has_value()) << doc.error().message;
  EXPECT_EQ((*doc)["policy"]["cooldowns"].size(), 1u);
}

TEST_F(PolicyServiceTest, WhileSavesFailNothingIsSentAndTheFailureIsLoggedOnce) {
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured)));
  int save_errors = 0;
  PolicyServiceOptions options;
  options.on_save_error = [&] { ++save_errors; };
  auto service = Make(options);
  service->OnDiscovery(Fleet(), clock_.Now());
  BlockSaves(path_);
  service->OnCheck(Answer(false));
  service->RunOnce();
  clock_.Advance(std::chrono::minutes(5));
  service->RunOnce();  // the retry, held back too: it was the one retry
  clock_.Advance(std::chrono::minutes(5));
  service->OnCheck(Answer(true));
  service->RunOnce();  // a periodic save, failing
  EXPECT_TRUE(api_->Calls().empty());
  EXPECT_EQ(save_errors, 5);
  const auto actions = nlohmann::json::parse(service->ActionsJson())["actions"];
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0]["retry"], true);
  EXPECT_TRUE(service->StatusJson("c1")[0]["retry_due"].is_null()) << "no third attempt";
  fs::remove(path_ + ".tmp");
  ASSERT_TRUE(service->Save().has_value());
  service->OnCheck(Answer(true));
  clock_.Advance(PolicyService::kSaveInterval);
  service->RunOnce();
  spdlog::set_default_logger(previous);
  const std::string logs = captured.str();
  size_t errors = 0;
  for (size_t at = logs.find("state file: cannot write"); at != std::string::npos;
       at = logs.find("state file: cannot write", at + 1)) {
    ++errors;
  }
  EXPECT_EQ(errors, 1u) << logs;
  EXPECT_NE(logs.find("saved to " + path_ + " again, after 5 failed saves"), std::string::npos)
      << logs;
}

TEST_F(PolicyServiceTest, ThreadPerformsPurgesAndStopSavesTheState) {
  auto service = Make();
  service->Start();
  service->OnDiscovery(Fleet(), clock_.Now());
  service->OnCheck(Answer(false));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (api_->Calls().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(api_->Calls(), std::vector<std::string>{"connection c1"});
  service->Stop();
  EXPECT_TRUE(api_->Cancelled());
  auto doc = state::Load(path_, clock_.Now());
  ASSERT_TRUE(doc.has_value()) << doc.error().message;
  EXPECT_EQ((*doc)["policy"]["cooldowns"].size(), 1u);
}

TEST_F(PolicyServiceTest, TheAuditTrailComesBackAfterEachRestartInOrderAndOnce) {
  auto service = Make();
  service->OnDiscovery(Fleet(), clock_.Now());
  service->OnCheck(Answer(false));
  service->RunOnce();
  Relapse(*service);
  const std::string before = service->ActionsJson();
  ASSERT_EQ(nlohmann::json::parse(before)["actions"].size(), 2u);
  const nlohmann::json saved = AuditInFile()["entries"];
  for (const auto& e : saved) EXPECT_FALSE(e.contains("in_flight")) << e;
  service.reset();

  for (int restart = 0; restart < 2; ++restart) {
    service = Make();
    EXPECT_EQ(service->ActionsJson(), before) << "restart " << restart;
    EXPECT_TRUE(service->Counters().actions.empty() && service->Counters().suppressed.empty());
    service.reset();
  }
  service = Make();
  service->OnDiscovery(Fleet(), clock_.Now());
  Relapse(*service);
  const auto actions = nlohmann::json::parse(service->ActionsJson())["actions"];
  ASSERT_EQ(actions.size(), 3u);
  EXPECT_EQ(actions[0]["time"], FormatRfc3339(clock_.Now())) << "the new one first";
  EXPECT_EQ(nlohmann::json(std::vector(actions.begin() + 1, actions.end())),
            nlohmann::json::parse(before)["actions"]);
}

TEST_F(PolicyServiceTest, ThePurgeInFlightAtACrashComesBackOnceWithAnUnknownOutcome) {
  // A kill -9 while the purge is in flight leaves the file as it is then: keep a copy.
  const std::string crashed = path_ + ".at-crash";
  auto service = Make();
  api_->DuringPurge([&] { fs::copy_file(path_, crashed, fs::copy_options::overwrite_existing); });
  service->OnDiscovery(Fleet(), clock_.Now());
  service->OnCheck(Answer(false));
  service->RunOnce();
  ASSERT_EQ(api_->Calls().size(), 1u);
  auto final_entries = AuditInFile()["entries"];
  ASSERT_EQ(final_entries.size(), 1u) << "the entry written ahead became the final one";
  EXPECT_EQ(final_entries[0]["outcome"], "success");
  service.reset();

  fs::copy_file(crashed, path_, fs::copy_options::overwrite_existing);
  const auto written_ahead = AuditInFile()["entries"];
  ASSERT_EQ(written_ahead.size(), 1u);
  EXPECT_EQ(written_ahead[0]["in_flight"], true);
  service = Make();
  auto actions = nlohmann::json::parse(service->ActionsJson())["actions"];
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0]["outcome"], "unknown");
  EXPECT_EQ(actions[0]["policy"], "p");
  EXPECT_EQ(actions[0]["connection_id"], "c1");
  EXPECT_EQ(actions[0]["detail"], kUnknownOutcomeDetail);
  EXPECT_TRUE(service->Counters().actions.empty());
  EXPECT_TRUE(service->LastPurges().empty()) << "its success was never recorded";
  // Its cooldown was written ahead: no second purge.
  service->OnDiscovery(Fleet(), clock_.Now());
  Relapse(*service);
  EXPECT_TRUE(api_->Calls().empty());
  service.reset();

  // Reported once: from now on it is an entry like the others.
  const nlohmann::json saved = AuditInFile()["entries"];
  for (const auto& e : saved) EXPECT_FALSE(e.contains("in_flight")) << e;
  service = Make();
  actions = nlohmann::json::parse(service->ActionsJson())["actions"];
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[1]["outcome"], "unknown");
}

TEST_F(PolicyServiceTest, TheAuditSectionKeepsTheAuditLogsCapacity) {
  PolicyServiceOptions options;
  options.audit_capacity = 2;
  auto service = Make(options);
  service->OnDiscovery(Fleet(), clock_.Now());
  service->OnCheck(Answer(false));
  service->RunOnce();
  for (int i = 0; i < 3; ++i) Relapse(*service);
  const std::string before = service->ActionsJson();
  EXPECT_EQ(AuditInFile()["entries"].size(), 2u);
  service.reset();
  service = Make(options);
  EXPECT_EQ(service->ActionsJson(), before);
}

TEST_F(PolicyServiceTest, LastPurgesSurviveARestartForConnectionsThatRemain) {
  FleetSnapshot snapshot;
  snapshot.discovered = true;
  snapshot.connections = Fleet();
  snapshot.last_discovery = clock_.Now();
  PolicyServiceOptions options;
  options.fleet = [&] { return snapshot; };
  auto service = Make(options);
  service->RunOnce();  // the discovery
  service->OnCheck(Answer(false));
  service->RunOnce();
  const std::map<std::string, SysTime> purged = {{"c1", clock_.Now()}};
  EXPECT_EQ(service->LastPurges(), purged);
  service.reset();

  service = Make(options);
  EXPECT_EQ(service->LastPurges(), purged);
  snapshot.connections.clear();  // c1 is gone
  snapshot.last_discovery = clock_.Now() + std::chrono::seconds(1);
  service->RunOnce();
  EXPECT_TRUE(service->LastPurges().empty());
  ASSERT_TRUE(service->Save().has_value());
  EXPECT_TRUE(AuditInFile()["last_purge_ms"].empty());
}

TEST_F(PolicyServiceTest, TheFleetIsPolledOnEveryPassUntilTheFirstDiscovery) {
  FleetSnapshot snapshot;
  int polls = 0;
  PolicyServiceOptions options;
  options.fleet = [&] {
    ++polls;
    return snapshot;
  };
  auto service = Make(options);
  service->RunOnce();
  EXPECT_EQ(polls, 1);
  // Discovered within the poll interval: seen at the next pass, not kFleetPollInterval later.
  snapshot.discovered = true;
  snapshot.connections = Fleet();
  snapshot.last_discovery = clock_.Now();
  service->RunOnce();
  EXPECT_EQ(polls, 2);
  EXPECT_FALSE(service->StatusJson("c1").empty()) << "the engine has the discovery";
  service->RunOnce();
  EXPECT_EQ(polls, 2) << "then every kFleetPollInterval";
}

TEST_F(PolicyServiceTest, ADamagedAuditSectionCostsTheAuditTrailNotTheCooldowns) {
  auto service = Make();
  service->OnDiscovery(Fleet(), clock_.Now());
  service->OnCheck(Answer(false));
  service->RunOnce();
  service.reset();
  auto doc = state::Load(path_, clock_.Now());
  ASSERT_TRUE(doc.has_value());
  (*doc)["audit"]["entries"] = "garbage";
  ASSERT_TRUE(state::Save(path_, *doc, clock_.Now()).has_value());

  service = Make();
  EXPECT_FALSE(service->LoadProblem().has_value()) << *service->LoadProblem();
  EXPECT_TRUE(fs::exists(path_)) << "not set aside";
  EXPECT_EQ(nlohmann::json::parse(service->ActionsJson())["actions"].size(), 0u);
  EXPECT_FALSE(service->StatusJson("c1")[0]["cooldown_until"].is_null());
  service->OnDiscovery(Fleet(), clock_.Now());
  Relapse(*service);
  EXPECT_TRUE(api_->Calls().empty());
  EXPECT_EQ(AuditInFile()["entries"].size(), 1u) << "the section is whole again";
}

TEST_F(PolicyServiceTest, AStateFileFromBeforeTheAuditSectionStillLoads) {
  std::ofstream(path_) << R"({"version": 1, "saved_at": "2023-11-14T22:13:20Z",
    "policy": {"cooldowns": [{"policy": "p", "connection_id": "c1", "until_ms": 1700001800000}]}})";
  auto service = Make();
  EXPECT_FALSE(service->LoadProblem().has_value()) << *service->LoadProblem();
  EXPECT_EQ(nlohmann::json::parse(service->ActionsJson())["actions"].size(), 0u);
  EXPECT_TRUE(service->LastPurges().empty());
  EXPECT_EQ(service->StatusJson("c1")[0]["cooldown_until"], "2023-11-14T22:43:20Z");
  ASSERT_TRUE(service->Save().has_value());
  EXPECT_TRUE(AuditInFile()["entries"].empty());
}

// issue #13 item 1: the service measures the wall clock against the monotonic one and tells the
// engine of a step. Before, an `every` schedule stopped for an hour after the wall clock stepped
// back an hour, and a step forward ended every cooldown at once.
TEST_F(PolicyServiceTest, AStepOfTheWallClockKeepsSchedulesAndCooldownsInRealTime) {
  auto api = std::make_unique<PurgeApi>();
  PurgeApi* api_seen = api.get();
  PolicyService service(clock_, ConfigFrom(R"(
policies:
  - { name: sched, match: { id: [c1] }, when: { event: schedule, every: 1m },
      action: { purge: connection }, cooldown: 0s }
  - { name: down, match: { id: [c1] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection }, cooldown: 30m }
)"),
                        std::move(api), PolicyServiceOptions{.state_path = path_});
  service.OnDiscovery(Fleet(), clock_.Now());
  service.RunOnce();
  clock_.Advance(std::chrono::minutes(1));
  service.RunOnce();
  ASSERT_EQ(api_seen->Calls().size(), 1u);
  // Back an hour: the next point is still one minute away in real time.
  clock_.StepWall(-std::chrono::hours(1));
  clock_.Advance(std::chrono::seconds(30));
  service.RunOnce();
  EXPECT_EQ(api_seen->Calls().size(), 1u);
  clock_.Advance(std::chrono::seconds(30));
  service.RunOnce();
  EXPECT_EQ(api_seen->Calls().size(), 2u);
  // An unhealthy answer purges and starts a 30m cooldown; forward an hour: still in cooldown.
  service.OnCheck(Answer(false));
  service.RunOnce();
  ASSERT_EQ(api_seen->Calls().size(), 3u);
  clock_.StepWall(std::chrono::hours(1));
  clock_.Advance(std::chrono::seconds(1));
  service.OnCheck(Answer(true));
  service.OnCheck(Answer(false));
  service.RunOnce();
  EXPECT_EQ(api_seen->Calls().size(), 3u);
  const std::string actions = service.ActionsJson();
  EXPECT_NE(actions.find("\"reason\":\"cooldown\""), std::string::npos) << actions;
  // The file was saved at once with the moved times.
  auto doc = state::Load(path_, clock_.Now());
  ASSERT_TRUE(doc.has_value()) << doc.error().message;
  const auto& cooldowns = (*doc)["policy"]["cooldowns"];
  ASSERT_EQ(cooldowns.size(), 1u) << cooldowns.dump();
}

// issue #13 item 5: a purge cut off by shutdown once its request was on its way may have
// purged: its outcome is unknown, its cooldown stands and it is not retried, so the restarted
// daemon does not purge again. Before, it came back as a transient failure: cooldown restored,
// retry saved, and the restart purged a second time.
TEST_F(PolicyServiceTest, APurgeCutOffByShutdownAfterItWasSentIsNotRepeatedAfterTheRestart) {
  auto service = Make();
  api_->Script({std::unexpected(hotdata::ApiError{
      .kind = hotdata::ErrorKind::kCancelled, .message = "shutdown", .request_sent = true})});
  service->OnDiscovery(Fleet(), clock_.Now());
  service->OnCheck(Answer(false));
  service->RunOnce();
  ASSERT_EQ(api_->Calls().size(), 1u);
  service->Stop();
  const nlohmann::json audit = service->audit().Entries().front().ToJson();
  EXPECT_EQ(audit["outcome"], "unknown") << audit.dump();
  EXPECT_NE(audit["detail"].get<std::string>().find("may have"), std::string::npos) << audit.dump();
  service.reset();

  auto restarted = Make();
  restarted->OnDiscovery(Fleet(), clock_.Now());
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(std::chrono::minutes(1));  // past every retry interval, inside the cooldown
    restarted->RunOnce();
  }
  EXPECT_TRUE(api_->Calls().empty());
  auto doc = state::Load(path_, clock_.Now());
  ASSERT_TRUE(doc.has_value()) << doc.error().message;
  EXPECT_EQ((*doc)["policy"]["cooldowns"].size(), 1u);
}

// The other half: cut off before anything was sent, it is retried after the restart.
TEST_F(PolicyServiceTest, APurgeCutOffByShutdownBeforeItWasSentIsRetriedAfterTheRestart) {
  auto service = Make();
  api_->Script({std::unexpected(
      hotdata::ApiError{.kind = hotdata::ErrorKind::kCancelled, .message = "shutdown"})});
  service->OnDiscovery(Fleet(), clock_.Now());
  service->OnCheck(Answer(false));
  service->RunOnce();
  service->Stop();
  service.reset();

  auto restarted = Make();
  restarted->OnDiscovery(Fleet(), clock_.Now());
  clock_.Advance(std::chrono::minutes(1));
  restarted->RunOnce();
  EXPECT_EQ(api_->Calls(), std::vector<std::string>{"connection c1"});
}

}  // namespace
}  // namespace hdm::policy::testing
