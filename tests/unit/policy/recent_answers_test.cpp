#include "policy/recent_answers.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace hdm::policy {
namespace {

using std::chrono::seconds;

const SysTime kT0 = SysTime{} + std::chrono::hours(24 * 365 * 50);

TEST(RecentAnswersTest, CountsAnswersInsideTheWindow) {
  RecentAnswers r;
  r.Put("a", true, kT0);
  r.Put("b", false, kT0 + seconds(10));
  r.Put("c", false, kT0 + seconds(20));
  EXPECT_EQ(r.CountSince(kT0), (RecentAnswers::Counts{3, 2}));
  EXPECT_EQ(r.CountSince(kT0 + seconds(5)), (RecentAnswers::Counts{2, 2}));
  EXPECT_EQ(r.CountSince(kT0 + seconds(21)), (RecentAnswers::Counts{0, 0}));
  // The window may move back: answers come back in.
  EXPECT_EQ(r.CountSince(kT0 + seconds(10)), (RecentAnswers::Counts{2, 2}));
  EXPECT_EQ(r.CountSince(kT0 - seconds(1)), (RecentAnswers::Counts{3, 2}));
}

TEST(RecentAnswersTest, ANewAnswerReplacesTheConnectionsLatest) {
  RecentAnswers r;
  r.Put("a", false, kT0);
  EXPECT_EQ(r.CountSince(kT0), (RecentAnswers::Counts{1, 1}));
  r.Put("a", true, kT0 + seconds(1));
  EXPECT_EQ(r.CountSince(kT0), (RecentAnswers::Counts{1, 0}));
  EXPECT_EQ(r.size(), 1u);
  // An answer older than the window is kept as the latest but not counted.
  r.Put("a", false, kT0 - seconds(5));
  EXPECT_EQ(r.CountSince(kT0), (RecentAnswers::Counts{0, 0}));
  EXPECT_EQ(r.CountSince(kT0 - seconds(5)), (RecentAnswers::Counts{1, 1}));
}

TEST(RecentAnswersTest, RemovedConnectionsNoLongerCount) {
  RecentAnswers r;
  r.Put("a", false, kT0);
  r.Put("b", false, kT0);
  r.Remove("a");
  r.Remove("missing");
  EXPECT_EQ(r.CountSince(kT0), (RecentAnswers::Counts{1, 1}));
  EXPECT_EQ(r.size(), 1u);
}

// Random puts, removes and window moves (mostly forward, sometimes back), checked after every
// step against a plain count over all latest answers.
TEST(RecentAnswersTest, MatchesAFullCountUnderRandomOperations) {
  std::mt19937 rng(7);
  RecentAnswers r;
  std::map<std::string, std::pair<bool, SysTime>> latest;
  SysTime now = kT0;
  for (int step = 0; step < 20000; ++step) {
    const std::string id = "conn_" + std::to_string(rng() % 50);
    const int op = static_cast<int>(rng() % 10);
    if (op == 0) {
      r.Remove(id);
      latest.erase(id);
    } else {
      now += seconds(rng() % 3);
      const SysTime at = now - seconds(rng() % 4);  // answers arrive a little out of order
      const bool healthy = rng() % 3 != 0;
      r.Put(id, healthy, at);
      latest[id] = {healthy, at};
    }
    const SysTime oldest = now - seconds(20) - seconds(rng() % 15 == 0 ? rng() % 40 : 0);
    RecentAnswers::Counts want;
    for (const auto& [key, answer] : latest) {
      if (answer.second < oldest) continue;
      ++want.recent;
      if (!answer.first) ++want.unhealthy;
    }
    ASSERT_EQ(r.CountSince(oldest), want) << "step " << step;
    ASSERT_EQ(r.size(), latest.size());
  }
}

}  // namespace
}  // namespace hdm::policy
