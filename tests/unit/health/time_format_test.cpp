#include "common/time_format.h"

#include <gtest/gtest.h>

namespace hdm {
namespace {

using namespace std::chrono_literals;

TEST(Rfc3339Test, ParsesUtcOffsetsAndFractions) {
  const SysTime base = SysTime(1'700'000'000s);  // 2023-11-14T22:13:20Z
  EXPECT_EQ(ParseRfc3339("2023-11-14T22:13:20Z"), base);
  EXPECT_EQ(ParseRfc3339("2023-11-14t22:13:20z"), base);
  EXPECT_EQ(ParseRfc3339("2023-11-14T22:13:20.5Z"), base + 500ms);
  EXPECT_EQ(ParseRfc3339("2023-11-15T00:13:20+02:00"), base);
  EXPECT_EQ(ParseRfc3339("2023-11-14T17:13:20-05:00"), base);
  EXPECT_EQ(FormatRfc3339(base), "2023-11-14T22:13:20Z");
}

TEST(Rfc3339Test, RejectsAnythingElse) {
  for (const char* bad : {"", "2023-11-14", "2023-11-14T22:13:20", "2023-13-14T22:13:20Z",
                          "2023-02-30T00:00:00Z", "2023-11-14T22:13:20.Z",
                          "2023-11-14T22:13:20+0200", "2023-11-14T22:13:20Zjunk", "yesterday"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

// Alertmanager and Grafana send "0001-01-01T00:00:00Z" as the endsAt of a firing alert; SysTime
// (nanoseconds in 64 bits) spans only 1677 to 2262. A year outside it is refused, not wrapped.
TEST(Rfc3339Test, RefusesYearsOutsideTheClocksRange) {
  EXPECT_FALSE(ParseRfc3339("0001-01-01T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("1600-01-01T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("2300-01-01T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("9999-12-31T23:59:59Z").has_value());
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z"), SysTime{});
  EXPECT_TRUE(ParseRfc3339("2200-01-01T00:00:00Z").has_value());
}

}  // namespace
}  // namespace hdm
