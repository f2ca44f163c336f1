// issue #14 part 1, through the real daemon: a state file of a version it can neither read nor
// migrate holds every purge (state_lost: counted, gauge 1, audited) until
// `hotdata-monitor state clear-hold`; a newer file that says it is readable keeps its cooldowns.
// (No older version than 1 was ever written: migrations are tested in tests/unit/state and
// tests/unit/policy with a synthetic format.)
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "integration/harness.h"

namespace hdm::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kPgCache[] = "/v1/connections/conn_pg/cache";
constexpr char kEverySecond[] = R"(policies:
  - name: every-second
    match: { name: ["prod-pg"] }
    when: { event: schedule, every: 1s }
    action: { purge: connection }
    cooldown: 1s
)";

double Value(DaemonHarness& h, const std::string& series) {
  return SeriesValue(h.Metrics(), series).value_or(-1);
}

// Restarts the daemon with kEverySecond and `state` as its state file. The first daemon runs
// without policies, so nothing was purged before.
void RestartWith(DaemonHarness& h, const std::string& state) {
  h.RestartDaemon([&] {
    h.dir().Write("config.yaml", TestConfig(h.fake().base_url(),
                                            (h.dir().path() / "token").string(), kEverySecond));
    h.dir().Write("state.json", state);
  });
}

std::vector<std::string> SetAside(const DaemonHarness& h) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(h.dir().path())) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("state.json.") && !name.ends_with(".lock") && !name.ends_with(".tmp")) {
      out.push_back(name);
    }
  }
  return out;
}

TEST(StateVersionTest, AnUnusableVersionHoldsEveryPurgeUntilAnOperatorClearsIt) {
  DaemonHarness h;
  RestartWith(h, R"({"version": 99, "policy": {}})");
  const std::string held =
      "hotdata_policy_suppressed_total{policy=\"every-second\",reason=\"state_lost\"}";
  ASSERT_TRUE(WaitFor([&] { return Value(h, held) >= 2; }));
  EXPECT_EQ(Value(h, "hotdata_policy_state_lost"), 1);
  EXPECT_EQ(h.fake().CountRequests("DELETE", kPgCache), 0u);
  const std::vector<std::string> aside = SetAside(h);
  ASSERT_EQ(aside.size(), 1u);
  EXPECT_TRUE(aside[0].starts_with("state.json.v99-")) << aside[0];
  const std::string actions = h.Get("/api/v1/actions").body;
  EXPECT_NE(actions.find("\"outcome\":\"hold_started\""), std::string::npos) << actions;
  EXPECT_NE(actions.find("\"reason\":\"state_lost\""), std::string::npos) << actions;

  const fs::path out = h.dir().path() / "clear.out";
  const std::string cmd = std::string(HDM_BINARY_DIR) + "/hotdata-monitor --config " +
                          (h.dir().path() / "config.yaml").string() + " state clear-hold >" +
                          out.string() + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(out);
  std::stringstream said;
  said << in.rdbuf();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << said.str();
  EXPECT_NE(said.str().find("cleared the hold of every purge"), std::string::npos) << said.str();

  ASSERT_TRUE(WaitFor([&] { return h.fake().CountRequests("DELETE", kPgCache) >= 1; }));
  EXPECT_EQ(Value(h, "hotdata_policy_state_lost"), 0);
  EXPECT_NE(h.Get("/api/v1/actions").body.find("\"outcome\":\"hold_ended\""), std::string::npos);
}

TEST(StateVersionTest, ANewerFileReadableByThisVersionKeepsItsCooldowns) {
  DaemonHarness h;
  const auto until =
      std::chrono::duration_cast<std::chrono::milliseconds>(
          (std::chrono::system_clock::now() + std::chrono::hours(1)).time_since_epoch())
          .count();
  RestartWith(h, R"({"version": 2, "readable_by": 1, "from_version_2": {}, "policy": {"cooldowns": [
      {"policy": "every-second", "connection_id": "conn_pg", "until_ms": )" +
                     std::to_string(until) + "}]}}");
  const std::string cooled =
      "hotdata_policy_suppressed_total{policy=\"every-second\",reason=\"cooldown\"}";
  ASSERT_TRUE(WaitFor([&] { return Value(h, cooled) >= 2; }));
  EXPECT_EQ(h.fake().CountRequests("DELETE", kPgCache), 0u) << "no purge inside the cooldown";
  EXPECT_EQ(Value(h, "hotdata_policy_state_lost"), 0);
  EXPECT_TRUE(SetAside(h).empty());
}

}  // namespace
}  // namespace hdm::testing
