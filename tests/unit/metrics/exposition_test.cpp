#include "metrics/exposition.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace hdm::metrics {
namespace {

std::string Value(double v) {
  std::string out;
  AppendValue(out, v);
  return out;
}

std::string Count(uint64_t v) {
  std::string out;
  AppendValue(out, v);
  return out;
}

std::string Label(std::string_view v) {
  std::string out;
  AppendLabelValue(out, v);
  return out;
}

TEST(ExpositionTest, IntegralValuesHaveNoExponentOrFraction) {
  EXPECT_EQ(Value(0), "0");
  EXPECT_EQ(Value(-0.0), "0");
  EXPECT_EQ(Value(1), "1");
  EXPECT_EQ(Value(-3), "-3");
  EXPECT_EQ(Value(1700000000), "1700000000");
  EXPECT_EQ(Value(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(Count(uint64_t{18446744073709551615u}), "18446744073709551615");
}

TEST(ExpositionTest, FractionsRoundTripInShortestForm) {
  EXPECT_EQ(Value(0.25), "0.25");
  EXPECT_EQ(Value(0.1), "0.1");
  EXPECT_EQ(Value(1700000000.125), "1700000000.125");
  EXPECT_EQ(std::stod(Value(1e-7)), 1e-7);
  EXPECT_EQ(std::stod(Value(1e300)), 1e300);
}

TEST(ExpositionTest, UnixSecondsRoundsOnce) {
  using std::chrono::milliseconds;
  EXPECT_EQ(UnixSeconds(SysTime(milliseconds(1'699'999'999'750))), 1699999999.75);
  EXPECT_EQ(UnixSeconds(SysTime(milliseconds(1'700'000'000'123))), 1700000000.123);
  EXPECT_EQ(UnixSeconds(SysTime(milliseconds(-1'500))), -1.5);
}

TEST(ExpositionTest, SpecialValuesUsePrometheusSpelling) {
  EXPECT_EQ(Value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(Value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(Value(std::nan("")), "NaN");
}

TEST(ExpositionTest, LabelValueEscapesBackslashQuoteAndNewline) {
  EXPECT_EQ(Label("plain name"), "plain name");
  EXPECT_EQ(Label("a\\b"), "a\\\\b");
  EXPECT_EQ(Label("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(Label("two\nlines\n"), "two\\nlines\\n");
  EXPECT_EQ(Label(""), "");
  EXPECT_EQ(Label("tab\tstays"), "tab\tstays");
}

TEST(ExpositionTest, FamilyHeaderComesOnceBeforeTheFirstSample) {
  std::string out;
  FamilyWriter w(out, {"x_total", "Things counted.", "counter"});
  w.Sample("{a=\"1\"}", uint64_t{2});
  w.Sample("", 0.5);
  EXPECT_EQ(out,
            "# HELP x_total Things counted.\n"
            "# TYPE x_total counter\n"
            "x_total{a=\"1\"} 2\n"
            "x_total 0.5\n");
}

TEST(ExpositionTest, FamilyWithoutSamplesWritesNothing) {
  std::string out;
  { FamilyWriter w(out, {"x", "Nothing.", "gauge"}); }
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace hdm::metrics
