#include "config/maintenance.h"

#include <gtest/gtest.h>

#include "common/time_format.h"

namespace hdm {
namespace {

MaintenanceWindow Window(const char* cron, std::chrono::minutes duration) {
  auto spec = ParseCron(cron);
  EXPECT_TRUE(spec.has_value());
  return {.cron_text = cron, .cron = *spec, .duration = duration};
}

SysTime At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

TEST(MaintenanceWindowTest, InForceFromItsStartForItsDuration) {
  const auto w = Window("0 2 * * 6", std::chrono::minutes(120));  // Saturdays 02:00-04:00 UTC
  EXPECT_EQ(MaintenanceWindowEnd(w, At("2026-12-05T01:59:59Z")), std::nullopt);
  EXPECT_EQ(MaintenanceWindowEnd(w, At("2026-12-05T02:00:00Z")), At("2026-12-05T04:00:00Z"));
  EXPECT_EQ(MaintenanceWindowEnd(w, At("2026-12-05T03:59:59Z")), At("2026-12-05T04:00:00Z"));
  EXPECT_EQ(MaintenanceWindowEnd(w, At("2026-12-05T04:00:00Z")), std::nullopt);
  EXPECT_EQ(MaintenanceWindowEnd(w, At("2026-12-06T03:00:00Z")), std::nullopt);  // a Sunday
}

TEST(MaintenanceWindowTest, AZeroDurationIsNeverInForce) {
  const auto w = Window("* * * * *", std::chrono::minutes(0));
  EXPECT_EQ(MaintenanceWindowEnd(w, At("2026-12-05T02:00:30Z")), std::nullopt);
}

}  // namespace
}  // namespace hdm
