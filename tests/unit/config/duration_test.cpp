#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <string>

#include "config/config.h"

namespace hdm {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

struct DurationCase {
  std::string text;
  std::optional<Millis> want;
};

TEST(DurationTest, ParsesTheConfigSyntax) {
  const DurationCase cases[] = {
      {"500ms", Millis{500}},
      {"30s", seconds{30}},
      {"5m", minutes{5}},
      {"6h", hours{6}},
      {"1d", days{1}},
      {"0", Millis{0}},
      {"0s", Millis{0}},
      {"0ms", Millis{0}},
      {"1h30m", minutes{90}},
      {"1d2h3m4s5ms", days{1} + hours{2} + minutes{3} + seconds{4} + Millis{5}},
      {"90m", minutes{90}},
      {"1500ms", Millis{1500}},
      {"10s250ms", Millis{10'250}},
      {"007s", seconds{7}},
      {"9223372036854775807ms", Millis{std::numeric_limits<int64_t>::max()}},
      {"106751991167d", days{106'751'991'167}},
      // Rejected.
      {"", std::nullopt},
      {"5", std::nullopt},
      {"-5m", std::nullopt},
      {"+5m", std::nullopt},
      {"five", std::nullopt},
      {"5 m", std::nullopt},
      {" 5m", std::nullopt},
      {"5m ", std::nullopt},
      {"5M", std::nullopt},
      {"5w", std::nullopt},
      {"5y", std::nullopt},
      {"5us", std::nullopt},
      {"1.5h", std::nullopt},
      {"30m1h", std::nullopt},
      {"1m1m", std::nullopt},
      {"1h30", std::nullopt},
      {"m", std::nullopt},
      {"9223372036854775808ms", std::nullopt},
      {"106751991168d", std::nullopt},          // the product overflows
      {"106751991167d25h", std::nullopt},       // the sum overflows
      {"99999999999999999999s", std::nullopt},  // the number overflows
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ParseDuration(c.text), c.want) << "text: \"" << c.text << "\"";
  }
}

TEST(DurationTest, FormatsLargestUnitsFirst) {
  EXPECT_EQ(FormatDuration(Millis{0}), "0s");
  EXPECT_EQ(FormatDuration(Millis{500}), "500ms");
  EXPECT_EQ(FormatDuration(seconds{30}), "30s");
  EXPECT_EQ(FormatDuration(minutes{90}), "1h30m");
  EXPECT_EQ(FormatDuration(days{1}), "1d");
  EXPECT_EQ(FormatDuration(days{1} + seconds{1} + Millis{1}), "1d1s1ms");
  EXPECT_EQ(FormatDuration(Millis{-1500}), "-1s500ms");
  EXPECT_FALSE(FormatDuration(Millis::min()).empty());
}

TEST(DurationTest, FormatThenParseRoundTrips) {
  for (int64_t ms : {int64_t{1}, int64_t{999}, int64_t{61'001}, int64_t{86'400'000 * 3 + 7},
                     std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(ParseDuration(FormatDuration(Millis{ms})), Millis{ms}) << ms;
  }
}

}  // namespace
}  // namespace hdm
