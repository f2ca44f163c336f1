// issue #14 part 1: the policy service and a state file of another version. What can be read or
// migrated keeps its cooldowns; what cannot is set aside (never deleted) and holds every purge
// (state_lost), audited and counted, persisted at once, until an operator clears it or the file
// ages out.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/time_format.h"
#include "engine_fixture.h"
#include "policy/policy_service.h"
#include "purge_api.h"
#include "state/state_file.h"

namespace hdm::policy::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kPolicy[] = R"(
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection }, cooldown: 30m }
)";

class StateLostServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hdm-state-lost-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "state.json").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<PolicyService> Make() {
    auto api = std::make_unique<PurgeApi>();
    api_ = api.get();
    PolicyServiceOptions options;
    options.state_path = path_;
    auto service = std::make_unique<PolicyService>(clock_, ConfigFrom(kPolicy), std::move(api),
                                                   std::move(options));
    service->OnDiscovery({Conn("c1", "prod-a")}, clock_.Now());
    return service;
  }
  // Writes `content` as the state file, last modified at `modified`.
  void WriteState(const std::string& content, SysTime modified) {
    std::ofstream(path_) << content;
    fs::last_write_time(path_, std::chrono::file_clock::from_sys(modified));
  }
  // c1 answers unhealthy after a healthy answer: policy p fires.
  void Relapse(PolicyService& service) {
    clock_.Advance(std::chrono::minutes(1));
    service.OnCheck(Answer(true));
    service.OnCheck(Answer(false));
    service.RunOnce();
  }
  CheckEvent Answer(bool healthy) {
    CheckEvent e{.state = Conn("c1", "prod-a"),
                 .answered = true,
                 .at = clock_.Now(),
                 .mono_at = clock_.Mono()};
    e.state.healthy = healthy;
    return e;
  }
  nlohmann::json Actions(const PolicyService& service) {
    return nlohmann::json::parse(service.ActionsJson())["actions"];
  }
  nlohmann::json PolicySectionOnDisk() {
    auto doc = state::Load(path_, clock_.Now());
    EXPECT_TRUE(doc.has_value()) << doc.error().message;
    return doc ? (*doc)["policy"] : nlohmann::json();
  }
  std::vector<std::string> SetAside() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      const std::string name = e.path().filename().string();
      if (name != "state.json" && !name.ends_with(".lock")) out.push_back(name);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // A cooldown of p on c1 until `until`, as the "policy" section holds it.
  static std::string CooldownUntil(SysTime until) {
    return R"({"cooldowns": [{"policy": "p", "connection_id": "c1", "until_ms": )" +
           std::to_string(ToUnixMs(until)) + "}]}";
  }

  FakeClock clock_{kT0};
  fs::path dir_;
  std::string path_;
  PurgeApi* api_ = nullptr;
};

TEST_F(StateLostServiceTest, AnUnreadableVersionHoldsEveryPurgeAuditedCountedAndPersisted) {
  WriteState(R"({"version": 7, "readable_by": 5, "policy": {}})", kT0 - std::chrono::minutes(1));
  auto service = Make();
  ASSERT_TRUE(service->LoadProblem().has_value());
  EXPECT_NE(service->LoadProblem()->find("version 7 is newer"), std::string::npos);
  EXPECT_TRUE(service->StateLost());
  EXPECT_EQ(SetAside(), std::vector<std::string>{"state.json.v7-1700000000"}) << "kept, renamed";
  // The hold is on disk at once: a crash now must not restart without it.
  const nlohmann::json on_disk = PolicySectionOnDisk();
  ASSERT_TRUE(on_disk.contains("state_lost")) << on_disk.dump();
  EXPECT_EQ(on_disk["state_lost"]["file"], path_ + ".v7-1700000000");

  Relapse(*service);
  EXPECT_TRUE(api_->Calls().empty()) << "nothing purged while held";
  const nlohmann::json actions = Actions(*service);
  ASSERT_EQ(actions.size(), 2u) << actions.dump();
  EXPECT_EQ(actions[0]["outcome"], "suppressed");
  EXPECT_EQ(actions[0]["reason"], "state_lost");
  EXPECT_EQ(actions[1]["outcome"], "hold_started");
  EXPECT_EQ(actions[1]["reason"], "state_lost");
  EXPECT_EQ(actions[1]["action"], "hold");
  const AuditCounters counters = service->Counters();
  EXPECT_EQ((counters.suppressed.at({"p", "state_lost"})), 1u);
  EXPECT_EQ(counters.suppressed.size(), 1u) << "the hold's own entries are not counted";
  EXPECT_TRUE(counters.actions.empty());

  // A restart keeps holding, and says so without a second hold_started.
  service.reset();
  service = Make();
  EXPECT_FALSE(service->LoadProblem().has_value());
  EXPECT_TRUE(service->StateLost());
  Relapse(*service);
  EXPECT_TRUE(api_->Calls().empty());
  EXPECT_EQ(Actions(*service)[0]["reason"], "state_lost");
  EXPECT_EQ(SetAside().size(), 1u);
}

TEST_F(StateLostServiceTest, ACorruptFileHoldsToo) {
  WriteState("{ not json", kT0 - std::chrono::minutes(1));
  auto service = Make();
  EXPECT_TRUE(service->StateLost());
  EXPECT_EQ(SetAside(), std::vector<std::string>{"state.json.corrupt-1700000000"});
  // A policy section that does not decode loses the cooldowns just the same.
  service.reset();
  fs::remove(path_);
  clock_.Advance(std::chrono::seconds(1));
  WriteState(R"({"version": 1, "policy": {"cooldowns": 3}})", kT0 - std::chrono::minutes(1));
  service = Make();
  EXPECT_TRUE(service->StateLost());
  Relapse(*service);
  EXPECT_TRUE(api_->Calls().empty());
}

TEST_F(StateLostServiceTest, AnOperatorsClearInTheFileEndsTheHoldOfTheRunningService) {
  WriteState(R"({"version": 7})", kT0 - std::chrono::minutes(1));
  auto service = Make();
  ASSERT_TRUE(service->StateLost());
  service->RunOnce();
  // What `hotdata-monitor state clear-hold` writes (tests/unit/ops covers the command).
  auto doc = state::Load(path_, clock_.Now());
  ASSERT_TRUE(doc.has_value());
  nlohmann::json& policy = (*doc)["policy"];
  policy["state_lost_cleared_ms"] = policy["state_lost"]["since_ms"];
  policy.erase("state_lost");
  ASSERT_TRUE(state::Save(path_, *doc, clock_.Now()).has_value());

  Relapse(*service);
  EXPECT_FALSE(service->StateLost());
  EXPECT_EQ(api_->Calls(), std::vector<std::string>{"connection c1"});
  const nlohmann::json actions = Actions(*service);
  ASSERT_GE(actions.size(), 2u);
  EXPECT_EQ(actions[0]["outcome"], "success");
  EXPECT_EQ(actions[1]["outcome"], "hold_ended");
  EXPECT_NE(actions[1]["detail"].get<std::string>().find("cleared by an operator"),
            std::string::npos);
  EXPECT_FALSE(PolicySectionOnDisk().contains("state_lost"));
}

TEST_F(StateLostServiceTest, TheHoldAgesOutLoggedAndAudited) {
  // Last saved 50 minutes ago: the budget's hour (longer than p's 30m cooldown) ends in 10.
  WriteState(R"({"version": 7})", kT0 - std::chrono::minutes(50));
  auto service = Make();
  ASSERT_TRUE(service->StateLost());
  clock_.Advance(std::chrono::minutes(9));
  Relapse(*service);  // at kT0 + 10m: aged out, then the purge goes
  EXPECT_FALSE(service->StateLost());
  EXPECT_EQ(api_->Calls(), std::vector<std::string>{"connection c1"});
  const nlohmann::json actions = Actions(*service);
  ASSERT_GE(actions.size(), 2u);
  EXPECT_EQ(actions[1]["outcome"], "hold_ended");
  EXPECT_NE(actions[1]["detail"].get<std::string>().find("aged out at 2023-11-14T22:23:20Z"),
            std::string::npos)
      << actions[1]["detail"];
}

TEST_F(StateLostServiceTest, ANewerVersionReadableByThisOneKeepsItsCooldowns) {
  WriteState(R"({"version": 2, "readable_by": 1, "future": {"x": 1}, "policy": )" +
                 CooldownUntil(kT0 + std::chrono::minutes(20)) + "}",
             kT0);
  auto service = Make();
  EXPECT_FALSE(service->LoadProblem().has_value());
  EXPECT_FALSE(service->StateLost());
  Relapse(*service);
  EXPECT_TRUE(api_->Calls().empty());
  EXPECT_EQ(Actions(*service)[0]["reason"], "cooldown");
  EXPECT_TRUE(SetAside().empty());
}

TEST_F(StateLostServiceTest, AMigratableOlderVersionKeepsItsCooldowns) {
  // Synthetic: version 1 is the first ever written. Say version 0 called the section "engine".
  const state::Format format{
      .version = 1,
      .migrations = {
          {.from = 0, .apply = [](nlohmann::json s) -> std::expected<nlohmann::json, std::string> {
             s["policy"] = s["engine"];
             s.erase("engine");
             return s;
           }}}};
  const state::Format* previous = state::SetFormatForTesting(&format);
  WriteState(R"({"version": 0, "engine": )" + CooldownUntil(kT0 + std::chrono::minutes(20)) + "}",
             kT0);
  auto service = Make();
  EXPECT_FALSE(service->LoadProblem().has_value());
  EXPECT_FALSE(service->StateLost());
  Relapse(*service);
  EXPECT_TRUE(api_->Calls().empty());
  EXPECT_EQ(Actions(*service)[0]["reason"], "cooldown");
  ASSERT_TRUE(service->Save().has_value());
  state::SetFormatForTesting(previous);
  auto doc = state::Load(path_, clock_.Now());
  ASSERT_TRUE(doc.has_value()) << "saved as this build's version";
  EXPECT_FALSE(doc->contains("engine"));
}

}  // namespace
}  // namespace hdm::policy::testing
