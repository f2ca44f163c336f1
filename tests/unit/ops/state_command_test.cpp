// `hotdata-monitor state clear-hold` (issue #14 part 1), and the manual purge under the
// state_lost hold.
#include "ops/state_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/cli.h"
#include "ops/purge_guard.h"
#include "state/state_file.h"

namespace hdm::ops {
namespace {

namespace fs = std::filesystem;

const SysTime kT0 = SysTime(std::chrono::seconds(1'700'000'000));

class StateCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("hdm-state-command-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    state_ = (dir_ / "state.json").string();
    config_ = (dir_ / "config.yaml").string();
    std::ofstream(config_) << "api: { base_url: http://127.0.0.1:1, token_env: HDM_NO_SUCH_VAR }\n"
                           << "state_file: " << state_ << "\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  int Run(std::vector<std::string> args) {
    out_.str("");
    err_.str("");
    return RunStateCommand(args, config_, clock_, out_, err_);
  }
  void Hold() {
    ASSERT_TRUE(UpdateSharedState(state_, kT0, [](SharedState& s) {
                  s.policy.state_lost = policy::StateLostHold{.since = kT0,
                                                              .file_time = kT0,
                                                              .file = "/x/state.json.v3-1700000000",
                                                              .why = "version 3 is newer"};
                  s.sections["audit"] = {{"kept", true}};
                  return true;
                }).has_value());
  }

  fs::path dir_;
  std::string state_;
  std::string config_;
  FakeClock clock_{kT0 + std::chrono::minutes(5)};
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(StateCommandTest, ClearHoldEndsTheHoldInTheFileAndNamesIt) {
  Hold();
  EXPECT_EQ(Run({"clear-hold"}), kExitOk) << err_.str();
  EXPECT_NE(out_.str().find("cleared the hold of every purge that began at "
                            "2023-11-14T22:13:20Z (version 3 is newer); the unusable file is "
                            "/x/state.json.v3-1700000000"),
            std::string::npos)
      << out_.str();
  auto shared = ReadSharedState(state_);
  ASSERT_TRUE(shared.has_value()) << shared.error();
  EXPECT_FALSE(shared->policy.state_lost.has_value());
  EXPECT_EQ(shared->policy.state_lost_cleared, kT0) << "names the hold for the running daemon";
  EXPECT_EQ(shared->sections["audit"]["kept"], true) << "the other sections stay";

  EXPECT_EQ(Run({"clear-hold"}), kExitOk);
  EXPECT_NE(out_.str().find("no purge is held"), std::string::npos) << out_.str();
}

TEST_F(StateCommandTest, WithoutAStateFileNothingIsHeld) {
  EXPECT_EQ(Run({"clear-hold"}), kExitOk) << err_.str();
  EXPECT_NE(out_.str().find("no purge is held"), std::string::npos);
  EXPECT_FALSE(fs::exists(state_)) << "nothing written when nothing changes";
}

TEST_F(StateCommandTest, UsageErrors) {
  EXPECT_EQ(Run({}), kExitUsage);
  EXPECT_NE(err_.str().find("expected the subcommand clear-hold"), std::string::npos);
  EXPECT_EQ(Run({"clear"}), kExitUsage);
  EXPECT_EQ(Run({"clear-hold", "--yes"}), kExitUsage);
  EXPECT_NE(err_.str().find("unknown flag \"--yes\""), std::string::npos);
  EXPECT_EQ(Run({"--help"}), kExitOk);
  EXPECT_NE(out_.str().find("state clear-hold"), std::string::npos);
  EXPECT_EQ(Run({"clear-hold", "--config", (dir_ / "nope.yaml").string()}), kExitUsage);
}

TEST_F(StateCommandTest, AnUnusableStateFileIsReportedNotOverwritten) {
  std::ofstream(state_) << R"({"version": 9})";
  EXPECT_EQ(Run({"clear-hold"}), kExitUsage);
  EXPECT_NE(err_.str().find("version 9 is newer"), std::string::npos) << err_.str();
  std::ifstream in(state_);
  std::stringstream content;
  content << in.rdbuf();
  EXPECT_EQ(content.str(), R"({"version": 9})");
}

TEST_F(StateCommandTest, TheCommandLineParsesStateLikeConnections) {
  std::vector<std::string> words = {"hotdata-monitor", "--config",   "/c.yaml",
                                    "state",           "clear-hold", "--help"};
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  auto cli = ParseCli(static_cast<int>(argv.size()), argv.data());
  ASSERT_TRUE(cli.has_value()) << cli.error();
  EXPECT_TRUE(cli->state);
  EXPECT_EQ(cli->config_path, "/c.yaml");
  EXPECT_EQ(cli->state_args, (std::vector<std::string>{"clear-hold", "--help"}));
}

// The manual purge respects the hold, before every other safety; --force passes it as any.
TEST_F(StateCommandTest, AManualPurgeIsRefusedWhileHeld) {
  Config config;
  policy::PolicyState state;
  const auto target = policy::TargetKey::Of("c1", std::nullopt);
  EXPECT_FALSE(CheckManualPurge(config, state, target, kT0).has_value());
  state.state_lost = policy::StateLostHold{.since = kT0, .file_time = kT0, .why = "corrupt"};
  auto refusal = CheckManualPurge(config, state, target, kT0);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->reason, policy::SuppressReason::kStateLost);
  EXPECT_NE(refusal->detail.find("state clear-hold"), std::string::npos) << refusal->detail;
}

// The command line reads what the daemon reads: a newer version that says it is readable.
TEST_F(StateCommandTest, ReadSharedStateReadsANewerReadableVersion) {
  std::ofstream(state_)
      << R"({"version": 2, "readable_by": 1, "policy": {"budget_spends_ms": [5]}})";
  auto shared = ReadSharedState(state_);
  ASSERT_TRUE(shared.has_value()) << shared.error();
  EXPECT_EQ(shared->policy.budget_spends.size(), 1u);
}

}  // namespace
}  // namespace hdm::ops
