// The state file shared with the operator command line: MergeShared, the manual actions section,
// and a PolicyService that respects and keeps what another process wrote.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "engine_fixture.h"
#include "policy/manual_actions.h"
#include "policy/policy_service.h"
#include "policy/policy_state.h"
#include "purge_api.h"
#include "state/state_file.h"
#include "state/state_lock.h"

namespace hdm::policy::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::minutes;

constexpr char kPolicy[] = R"(
safety: { max_purges_per_hour: 2 }
policies:
  - { name: p, match: { id: [c1] }, when: { event: unhealthy, after_failures: 1 },
      action: { purge: connection }, cooldown: 30m }
)";

TEST(MergeSharedTest, LaterCooldownWinsAndSpendsAreAMultisetUnion) {
  const PolicyKey a{.policy = "p", .target = {"c1", "", ""}};
  const PolicyKey b{.policy = "q", .target = {"c2", "s", "t"}};
  PolicyState mine;
  mine.cooldown_until[a] = kT0 + minutes(10);
  mine.budget_spends = {kT0, kT0, kT0 + minutes(1)};
  mine.schedule_last_fire["p"] = kT0;
  PolicyState theirs;
  theirs.cooldown_until[a] = kT0 + minutes(5);
  theirs.cooldown_until[b] = kT0 + minutes(20);
  theirs.budget_spends = {kT0, kT0 + minutes(2)};
  theirs.schedule_last_fire["p"] = kT0 + minutes(9);

  MergeShared(mine, theirs);
  EXPECT_EQ(mine.cooldown_until.at(a), kT0 + minutes(10));
  EXPECT_EQ(mine.cooldown_until.at(b), kT0 + minutes(20));
  EXPECT_EQ(mine.budget_spends,
            (std::vector<SysTime>{kT0, kT0, kT0 + minutes(1), kT0 + minutes(2)}));
  EXPECT_EQ(mine.schedule_last_fire.at("p"), kT0) << "only cooldowns and spending are merged";

  const PolicyState once = mine;
  MergeShared(mine, theirs);
  EXPECT_EQ(mine, once) << "merging the same file twice adds nothing";
}

AuditEntry ManualEntry(SysTime at, const std::string& id) {
  return AuditEntry{.time = at,
                    .policy = kManualPolicy,
                    .action = PurgeKind::kTable,
                    .target = {.connection_id = id,
                               .connection_name = "prod-a",
                               .table = TableRef{.schema = "eu.sales", .table = "Order Items"}},
                    .trigger = "operator command line (user ops)",
                    .outcome = AuditOutcome::kFailed,
                    .detail = "HTTP 503 SERVICE_UNAVAILABLE: down"};
}

TEST(ManualActionsTest, RoundTripAndOnlyTheNewestAreKept) {
  nlohmann::json sections = nlohmann::json::object();
  for (size_t i = 0; i < kManualActionsKept + 3; ++i) {
    AppendManualAction(sections, {.id = std::to_string(i), .entry = ManualEntry(kT0, "c1")});
  }
  sections[kManualActionsSection].push_back({{"id", "bad"}, {"time", "yesterday"}});
  const auto actions = ManualActionsFrom(sections);
  ASSERT_EQ(actions.size(), kManualActionsKept) << "the undecodable one is skipped";
  EXPECT_EQ(actions.front().id, "3");
  EXPECT_EQ(actions.back().entry.ToJson(), ManualEntry(kT0, "c1").ToJson());
  EXPECT_FALSE(AuditEntryFromJson(nlohmann::json::array()).has_value());
}

class SharedStateServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hdm-shared-state-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "state.json").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<PolicyService> Make() {
    auto api = std::make_unique<PurgeApi>();
    api_ = api.get();
    return std::make_unique<PolicyService>(clock_, ConfigFrom(kPolicy), std::move(api),
                                           PolicyServiceOptions{.state_path = path_});
  }
  // What the operator command line does: a locked read-modify-write of the file.
  void WriteAsAnotherProcess(const std::function<void(PolicyState&, nlohmann::json&)>& change) {
    auto lock = state::StateLock::Acquire(path_, std::chrono::seconds(1));
    ASSERT_TRUE(lock.has_value()) << lock.error();
    auto sections = state::Load(path_, clock_.Now());
    ASSERT_TRUE(sections.has_value());
    PolicyState policy;
    if (sections->contains("policy")) policy = *PolicyStateFromJson((*sections)["policy"]);
    change(policy, *sections);
    (*sections)["policy"] = PolicyStateToJson(policy);
    ASSERT_TRUE(state::Save(path_, *sections, clock_.Now()).has_value());
  }
  CheckEvent Unhealthy() {
    CheckEvent e{.state = Conn("c1", "prod-a"), .answered = true, .at = clock_.Now()};
    e.state.healthy = false;
    return e;
  }

  FakeClock clock_{kT0};
  fs::path dir_;
  std::string path_;
  PurgeApi* api_ = nullptr;
};

TEST_F(SharedStateServiceTest, RespectsACooldownAnotherProcessWroteWhileRunning) {
  auto service = Make();
  ASSERT_TRUE(service->Save().has_value());
  WriteAsAnotherProcess([&](PolicyState& s, nlohmann::json&) {
    s.cooldown_until[{.policy = "p", .target = {"c1", "", ""}}] = kT0 + minutes(30);
  });
  service->OnDiscovery({Conn("c1", "prod-a")}, clock_.Now());
  service->OnCheck(Unhealthy());
  service->RunOnce();
  EXPECT_TRUE(api_->Calls().empty());
  const auto actions = nlohmann::json::parse(service->ActionsJson())["actions"];
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0]["reason"], "cooldown");
}

TEST_F(SharedStateServiceTest, RespectsTheBudgetAnotherProcessSpent) {
  auto service = Make();
  WriteAsAnotherProcess([&](PolicyState& s, nlohmann::json&) {
    s.budget_spends = {kT0 - minutes(2), kT0 - minutes(1)};
  });
  service->OnDiscovery({Conn("c1", "prod-a")}, clock_.Now());
  service->OnCheck(Unhealthy());
  service->RunOnce();
  EXPECT_TRUE(api_->Calls().empty());
  const auto actions = nlohmann::json::parse(service->ActionsJson())["actions"];
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0]["reason"], "budget");
}

TEST_F(SharedStateServiceTest, SaveKeepsAndImportsWhatAnotherProcessWroteOnce) {
  auto service = Make();
  ASSERT_TRUE(service->Save().has_value());
  WriteAsAnotherProcess([&](PolicyState& s, nlohmann::json& sections) {
    s.budget_spends.push_back(kT0);
    AppendManualAction(sections, {.id = "m1", .entry = ManualEntry(kT0, "c1")});
  });
  ASSERT_TRUE(service->Save().has_value()) << "no RunOnce in between: Save merges first";
  ASSERT_TRUE(service->Save().has_value());
  service->RunOnce();

  auto doc = state::Load(path_, clock_.Now());
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ(ManualActionsFrom(*doc).size(), 1u) << "the daemon keeps the other sections";
  EXPECT_EQ(PolicyStateFromJson((*doc)["policy"])->budget_spends, std::vector<SysTime>{kT0});
  const auto entries = service->audit().Entries();
  ASSERT_EQ(entries.size(), 1u) << "imported once";
  EXPECT_EQ(entries[0].policy, "manual");
  EXPECT_EQ((service->Counters().actions.at({"manual", "purge_table", "failed"})), 1u);

  service.reset();
  service = Make();  // a restart shows the recent manual actions again
  EXPECT_EQ(service->audit().Entries().size(), 1u);
  EXPECT_TRUE(service->Counters().actions.empty()) << "neither imported nor counted again";
  service->RunOnce();
  EXPECT_EQ(service->audit().Entries().size(), 1u);
}

}  // namespace
}  // namespace hdm::policy::testing
