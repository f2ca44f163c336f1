#include "config/maintenance.h"

#include "common/saturating_time.h"

namespace hdm {

std::optional<SysTime> MaintenanceWindowEnd(const MaintenanceWindow& window, SysTime now) {
  const SysTime start = window.cron.NextAfter(SaturatingSub(now, window.duration));
  if (start > now) return std::nullopt;
  return SaturatingAdd(start, window.duration);
}

}  // namespace hdm
