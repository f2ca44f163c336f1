// A purge's cooldown is on disk before the purge is sent: if the daemon is killed while the
// DELETE is in flight (or right after it), the restarted daemon does not purge again inside
// the cooldown.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "integration/harness.h"

namespace hdm::testing {
namespace {

using namespace std::chrono_literals;

constexpr char kPgCache[] = "/v1/connections/conn_pg/cache";

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(PolicyCrashTest, TheCooldownIsSavedBeforeThePurgeIsSent) {
  DaemonHarness h(R"(policies:
  - name: hourly-refresh
    match: { name: ["prod-pg"] }
    when: { event: schedule, every: 2s }
    action: { purge: connection }
    cooldown: 2h
)");
  // The DELETE is held at the fake for 400 ms (the test config's API timeout is 500 ms): while
  // it is in flight, the state file must already hold the cooldown that this purge takes.
  // Without the write-ahead save the file is written only after the answer.
  h.fake().Script("DELETE", kPgCache, {.status = 204, .delay = 400ms});
  ASSERT_TRUE(WaitFor([&] { return h.fake().CountRequests("DELETE", kPgCache) == 1; }));
  const auto state_path = h.dir().path() / "state.json";
  const std::string text = ReadFile(state_path);
  ASSERT_FALSE(text.empty()) << "no state file while the purge is in flight";
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << text;
  EXPECT_NE(text.find("hourly-refresh"), std::string::npos) << text;
  EXPECT_NE(text.find("conn_pg"), std::string::npos) << text;
  EXPECT_NE(text.find("cooldowns"), std::string::npos) << text;

  // Once it succeeded, a restart keeps the cooldown: the schedule fires every 2 s, and every
  // firing after the restart is held back instead of purging again.
  ASSERT_TRUE(WaitFor([&] {
    return SeriesValue(h.Metrics(),
                       "hotdata_policy_actions_total{policy=\"hourly-refresh\",action=\"purge_"
                       "connection\",result=\"success\"}")
               .value_or(0) == 1;
  }));
  h.RestartDaemon();
  ASSERT_TRUE(WaitFor([&] {
    return SeriesValue(h.Metrics(),
                       "hotdata_policy_suppressed_total{policy=\"hourly-refresh\",reason="
                       "\"cooldown\"}")
               .value_or(0) >= 2;
  }));
  EXPECT_EQ(h.fake().CountRequests("DELETE", kPgCache), 1u);
}

}  // namespace
}  // namespace hdm::testing
