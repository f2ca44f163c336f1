// Inputs that the fuzzers of tests/fuzz found mishandled, kept as unit tests
// (their raw reproducers are in tests/fuzz/regressions/).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "config/config.h"
#include "config/cron.h"

namespace hdm {
namespace {

namespace chr = std::chrono;

// "7/n" in day-of-week means "from Sunday (7) on, every n": it used to read as the empty range
// 7-6, so a schedule like "0 0 * * 7/2" parsed but never fired.
TEST(CronFuzzRegressionTest, SundayAsSevenWithStepIsSunday) {
  for (const char* text : {"0 0 * * 7/2", "0 0 5-30/1 3 7/2", "0 0 * * 7/1"}) {
    SCOPED_TRACE(text);
    const auto spec = ParseCron(text);
    ASSERT_TRUE(spec.has_value()) << spec.error();
    EXPECT_EQ(spec->days_of_week.to_ulong(), 1u);  // Sunday only
  }
  const auto spec = ParseCron("0 0 * * 7/2");
  ASSERT_TRUE(spec.has_value());
  const auto saturday = chr::sys_days{chr::year{2025} / 5 / 3};
  EXPECT_EQ(spec->NextAfter(saturday), saturday + chr::days{1});
}

// yaml-cpp 0.7's LoadAll() loops forever, appending empty documents until memory runs out, on a
// stray ',' after a block sequence. ParseConfig must answer (with an error) instead.
TEST(ConfigFuzzRegressionTest, StrayCommaAfterSequenceIsAnErrorNotAHang) {
  const auto result = ParseConfig("- api\n,-uler\n", "bad.yaml");
  ASSERT_FALSE(result.has_value());
  std::string all;
  for (const auto& e : result.error()) all += e.ToString() + "\n";
  EXPECT_EQ(all,
            "bad.yaml:1:1: expected a mapping at the top level, got a list\n"
            "bad.yaml:2:1: expected one YAML document, found 2\n");
}

TEST(ConfigFuzzRegressionTest, StillCountsEmptyDocuments) {
  const std::string api = "api:\n  base_url: https://app.hotdata.dev\n";
  const auto one_empty_more = ParseConfig(api + "---\n", "a.yaml");
  ASSERT_FALSE(one_empty_more.has_value());
  EXPECT_EQ(one_empty_more.error().front().message, "expected one YAML document, found 2");
  const auto three = ParseConfig(api + "---\n---\n" + api, "b.yaml");
  ASSERT_FALSE(three.has_value());
  EXPECT_EQ(three.error().front().message, "expected one YAML document, found 3");
  EXPECT_TRUE(ParseConfig(api, "c.yaml").has_value());
}

}  // namespace
}  // namespace hdm
