#include "config/cron.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace hdm {
namespace {

namespace chr = std::chrono;
using TimePoint = chr::system_clock::time_point;

TimePoint At(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return chr::sys_days{chr::year{y} / mo / d} + chr::hours{h} + chr::minutes{mi} + chr::seconds{s};
}

std::string Show(TimePoint t) {
  if (t == TimePoint::max()) return "max";
  const auto day = chr::floor<chr::days>(t);
  const chr::year_month_day ymd{day};
  const chr::hh_mm_ss tod{chr::floor<chr::seconds>(t - day)};
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02u-%02u %02ld:%02ld:%02ld",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<long>(tod.hours().count()),
                static_cast<long>(tod.minutes().count()), static_cast<long>(tod.seconds().count()));
  return buffer;
}

TEST(CronParseTest, RejectsWithMessages) {
  const struct {
    std::string text;
    std::string message;
  } cases[] = {
      {"", "expected 5 fields (minute hour day-of-month month day-of-week), got 0"},
      {"* * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
      {"* * * * * *", "expected 5 fields (minute hour day-of-month month day-of-week), got 6"},
      {"@reboot", "expected 5 fields (minute hour day-of-month month day-of-week), got 1"},
      {"60 * * * *", "field 1 (minute): 60 is out of range 0-59"},
      {"* 25 * * *", "field 2 (hour): 25 is out of range 0-23"},
      {"* * 0 * *", "field 3 (day-of-month): 0 is out of range 1-31"},
      {"* * 32 * *", "field 3 (day-of-month): 32 is out of range 1-31"},
      {"* * * 13 *", "field 4 (month): 13 is out of range 1-12"},
      {"* * * * 8", "field 5 (day-of-week): 8 is out of range 0-7"},
      {"*/0 * * * *", "field 1 (minute): step 0 is out of range 1-59"},
      {"*/ * * * *", "field 1 (minute): missing step after '/'"},
      {"*/x * * * *", "field 1 (minute): step invalid value \"x\""},
      {"30-10 * * * *", "field 1 (minute): range 30-10 is reversed"},
      {"a * * * *", "field 1 (minute): invalid value \"a\""},
      {"1,,2 * * * *", "field 1 (minute): missing value"},
      {"-5 * * * *", "field 1 (minute): missing value"},
      {"* * * foo *", "field 4 (month): invalid value \"foo\""},
      {"* * * * 99999999999", "field 5 (day-of-week): 99999999999 is out of range 0-7"},
  };
  for (const auto& c : cases) {
    const auto spec = ParseCron(c.text);
    ASSERT_FALSE(spec.has_value()) << c.text;
    EXPECT_EQ(spec.error(), c.message) << c.text;
  }
}

TEST(CronParseTest, BuildsFieldSets) {
  const auto spec = ParseCron("5,10-12,*/20 8-18/5 1,15 jan,Jul-sep 5-7");
  ASSERT_TRUE(spec.has_value()) << spec.error();
  std::bitset<60> minutes;
  for (int m : {0, 5, 10, 11, 12, 20, 40}) minutes[m] = true;
  EXPECT_EQ(spec->minutes, minutes);
  EXPECT_EQ(spec->hours, std::bitset<24>((1 << 8) | (1 << 13) | (1 << 18)));
  EXPECT_EQ(spec->days_of_month, std::bitset<32>((1 << 1) | (1 << 15)));
  EXPECT_EQ(spec->months, std::bitset<13>((1 << 1) | (1 << 7) | (1 << 8) | (1 << 9)));
  EXPECT_EQ(spec->days_of_week, std::bitset<7>((1 << 0) | (1 << 5) | (1 << 6)));  // 7 is Sunday
  EXPECT_TRUE(spec->dom_restricted);
  EXPECT_TRUE(spec->dow_restricted);
}

TEST(CronParseTest, StarAndStarStepLeaveDayFieldsUnrestricted) {
  const auto spec = ParseCron("  0\t0  */2 * MON-fri ");
  ASSERT_TRUE(spec.has_value()) << spec.error();
  EXPECT_FALSE(spec->dom_restricted);
  EXPECT_TRUE(spec->dow_restricted);
  EXPECT_EQ(spec->days_of_week, std::bitset<7>(0b0111110));
  EXPECT_TRUE(spec->days_of_month[1] && spec->days_of_month[31] && !spec->days_of_month[2]);
  EXPECT_EQ(ParseCron("5/20 * * * *")->minutes,
            std::bitset<60>((1ULL << 5) | (1ULL << 25) | (1ULL << 45)));  // 'a/n' = a-max/n
  EXPECT_EQ(ParseCron("@daily")->hours, ParseCron("0 0 * * *")->hours);
  EXPECT_EQ(ParseCron("@weekly")->days_of_week, std::bitset<7>(1));
}

TEST(CronNextAfterTest, Table) {
  const struct {
    std::string cron;
    TimePoint after;
    TimePoint want;
  } cases[] = {
      {"* * * * *", At(2024, 1, 1, 0, 0, 30), At(2024, 1, 1, 0, 1)},
      {"* * * * *", At(2024, 1, 1, 0, 0), At(2024, 1, 1, 0, 1)},  // strictly after
      {"0 * * * *", At(2024, 1, 1, 12, 0), At(2024, 1, 1, 13, 0)},
      {"*/15 * * * *", At(2024, 1, 1, 10, 7), At(2024, 1, 1, 10, 15)},
      {"*/15 * * * *", At(2024, 1, 1, 23, 45), At(2024, 1, 2, 0, 0)},
      {"10-30/10 8-10 * * *", At(2024, 1, 1, 8, 31), At(2024, 1, 1, 9, 10)},
      {"10-30/10 8-10 * * *", At(2024, 1, 1, 10, 30), At(2024, 1, 2, 8, 10)},
      {"0 3 * * *", At(2024, 1, 1, 3, 0, 1), At(2024, 1, 2, 3, 0)},
      // Month ends and year ends.
      {"0 0 1 * *", At(2024, 1, 31, 12, 0), At(2024, 2, 1)},
      {"0 0 31 * *", At(2024, 2, 1), At(2024, 3, 31)},
      {"0 0 31 * *", At(2024, 4, 1), At(2024, 5, 31)},
      {"0 0 1 1 *", At(2024, 6, 1), At(2025, 1, 1)},
      {"30 23 31 12 *", At(2024, 12, 31, 23, 30), At(2025, 12, 31, 23, 30)},
      {"0 12 * 1,7 *", At(2024, 2, 1), At(2024, 7, 1, 12, 0)},
      // Leap years, including the eight-year gap around 2100.
      {"0 0 29 2 *", At(2023, 3, 1), At(2024, 2, 29)},
      {"0 0 29 2 *", At(2024, 3, 1), At(2028, 2, 29)},
      {"0 0 29 2 *", At(2097, 1, 1), At(2104, 2, 29)},
      {"0 0 28 2 *", At(2024, 2, 28, 0, 0), At(2025, 2, 28)},
      // Day-of-month OR day-of-week when both are restricted.
      {"0 0 10 * 5", At(2024, 12, 7), At(2024, 12, 10)},  // the 10th, a Tuesday
      {"0 0 13 * 5", At(2024, 9, 14), At(2024, 9, 20)},   // a Friday, not the 13th
      {"0 0 15 * 1", At(2024, 1, 2), At(2024, 1, 8)},     // Monday before the 15th
      // Only one restricted: AND; "*/2" counts as unrestricted (odd days that are Mondays).
      {"0 0 15 * *", At(2024, 1, 2), At(2024, 1, 15)},
      {"0 0 * * 1", At(2024, 1, 2), At(2024, 1, 8)},
      {"0 0 */2 * 1", At(2024, 1, 2), At(2024, 1, 15)},
      {"0 0 * * 7", At(2024, 9, 2), At(2024, 9, 8)},  // 7 is Sunday
      {"0 0 * jan mon", At(2024, 6, 1), At(2025, 1, 6)},
      // Never: a bounded search, not a hang.
      {"0 0 31 2 *", At(2024, 1, 1), TimePoint::max()},
      {"0 0 30 2 *", At(2024, 1, 1), TimePoint::max()},
      {"0 0 31 4,6,9,11 *", At(2024, 1, 1), TimePoint::max()},
      {"* * * * *", TimePoint::max() - chr::hours{1}, TimePoint::max()},
      // Before the epoch works too.
      {"0 0 1 1 *", At(1969, 6, 1), At(1970, 1, 1)},
  };
  for (const auto& c : cases) {
    const auto spec = ParseCron(c.cron);
    ASSERT_TRUE(spec.has_value()) << c.cron << ": " << spec.error();
    EXPECT_EQ(Show(spec->NextAfter(c.after)), Show(c.want))
        << "\"" << c.cron << "\" after " << Show(c.after);
  }
}

TEST(CronMatchesTest, ChecksTheMinuteContainingT) {
  const auto spec = ParseCron("30 2 * * 6");  // Saturdays 02:30
  ASSERT_TRUE(spec.has_value());
  EXPECT_TRUE(spec->Matches(At(2024, 9, 7, 2, 30)));
  EXPECT_TRUE(spec->Matches(At(2024, 9, 7, 2, 30, 59)));
  EXPECT_FALSE(spec->Matches(At(2024, 9, 7, 2, 31)));
  EXPECT_FALSE(spec->Matches(At(2024, 9, 8, 2, 30)));
  const auto either = ParseCron("0 0 13 * 5");
  EXPECT_TRUE(either->Matches(At(2024, 9, 6)));   // Friday
  EXPECT_TRUE(either->Matches(At(2024, 8, 13)));  // Tuesday the 13th
  EXPECT_FALSE(either->Matches(At(2024, 8, 14)));
}

TEST(CronNextAfterTest, EveryResultMatchesAndNothingIsSkipped) {
  const auto spec = ParseCron("*/7 */5 1-10 * 2");
  ASSERT_TRUE(spec.has_value());
  TimePoint t = At(2024, 1, 1);
  for (int i = 0; i < 200; ++i) {
    const TimePoint next = spec->NextAfter(t);
    ASSERT_TRUE(spec->Matches(next)) << Show(next);
    for (TimePoint m = t + chr::minutes{1}; m < next && m < t + chr::hours{2};
         m += chr::minutes{1}) {
      ASSERT_FALSE(spec->Matches(chr::floor<chr::minutes>(m))) << Show(m);
    }
    t = next;
  }
}

}  // namespace
}  // namespace hdm
