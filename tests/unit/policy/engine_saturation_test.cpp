// Time points computed from configured durations saturate at the clock's range instead of
// overflowing. The config refuses durations over 10 years (config_invalid_test.cpp); these
// configs are built past the parser, as a future code path or a bad merge could.
#include <gtest/gtest.h>

#include "common/saturating_time.h"
#include "engine_fixture.h"

namespace hdm::policy::testing {
namespace {

constexpr char kOnePolicy[] = R"(
safety: { pause_min_connections: 10 }
policies:
  - { name: p, when: { event: unhealthy, after_failures: 1 }, action: { purge: connection },
      cooldown: 10m }
)";

TEST(SaturatingTimeTest, ClampsAtTheClocksRangeAndIsExactInside) {
  EXPECT_EQ(SaturatingAdd(kT0, std::chrono::minutes(10)), kT0 + std::chrono::minutes(10));
  EXPECT_EQ(SaturatingSub(kT0, std::chrono::minutes(10)), kT0 - std::chrono::minutes(10));
  EXPECT_EQ(SaturatingAdd(kT0, Millis::max()), SysTime::max()) << "the product overflows";
  EXPECT_EQ(SaturatingAdd(SysTime::max() - std::chrono::hours(1), std::chrono::hours(2)),
            SysTime::max())
      << "the sum overflows";
  EXPECT_EQ(SaturatingAdd(kT0, Millis::min()), SysTime::min());
  EXPECT_EQ(SaturatingSub(kT0, Millis::max()), SysTime::min());
  EXPECT_EQ(SaturatingSub(kT0, Millis::min()), SysTime::max());
  using Steady = std::chrono::steady_clock;
  EXPECT_EQ(SaturatingAdd(Steady::time_point{}, Millis::max()), Steady::time_point::max());
}

TEST_F(EngineTest, ACooldownPastTheClocksRangeHoldsInsteadOfWrappingIntoThePast) {
  Start(kOnePolicy);
  Config huge = *config_;
  huge.policies[0].cooldown = Millis::max();
  config_ = std::make_shared<const Config>(std::move(huge));
  engine_->Reconfigure(config_);
  EXPECT_EQ(Step("c1", false), Strings{"p c1 perform"});
  EXPECT_EQ(engine_->Export().cooldown_until.at(PolicyKey{"p", {"c1"}}), SysTime::max());
  // A new episode a day later is still held by the cooldown.
  Advance(std::chrono::hours(24));
  Answer("c1", true);
  EXPECT_EQ(Step("c1", false), Strings{"p c1 suppressed:cooldown"});
}

}  // namespace
}  // namespace hdm::policy::testing
