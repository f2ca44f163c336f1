// hotdata_policy_state_lost (issue #14 part 1): 1 while every purge is held because the state
// file could not be used.
#include <gtest/gtest.h>

#include <string>

#include "metrics/metrics.h"

namespace hdm {
namespace {

// The lines of `text` that start with `prefix`.
std::string Lines(const std::string& text, const std::string& prefix) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (text.compare(pos, prefix.size(), prefix) == 0) out += text.substr(pos, end - pos) + "\n";
    pos = end + 1;
  }
  return out;
}

TEST(StateLostMetricTest, TheGaugeSaysWhetherEveryPurgeIsHeld) {
  PolicyCounters policy;
  std::string out = Metrics().Render(FleetSnapshot{}, &policy);
  EXPECT_EQ(Lines(out, "hotdata_policy_state_lost"), "hotdata_policy_state_lost 0\n");
  EXPECT_EQ(Lines(out, "# HELP hotdata_policy_state_lost "),
            "# HELP hotdata_policy_state_lost 1 while every purge is held because the state file "
            "could not be used; cleared by an operator or when the file ages out\n");
  EXPECT_EQ(Lines(out, "# TYPE hotdata_policy_state_lost "),
            "# TYPE hotdata_policy_state_lost gauge\n");
  policy.state_lost = true;
  policy.suppressed[{"p", "state_lost"}] = 3;
  out = Metrics().Render(FleetSnapshot{}, &policy);
  EXPECT_EQ(Lines(out, "hotdata_policy_state_lost"), "hotdata_policy_state_lost 1\n");
  EXPECT_EQ(Lines(out, "hotdata_policy_suppressed_total{"),
            "hotdata_policy_suppressed_total{policy=\"p\",reason=\"state_lost\"} 3\n");
  EXPECT_EQ(Lines(Metrics().Render(FleetSnapshot{}), "hotdata_policy_state_lost"), "")
      << "no policy engine, no series";
}

}  // namespace
}  // namespace hdm
