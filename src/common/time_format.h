// RFC 3339 formatting in UTC ("2026-11-25T14:52:28Z"). Thread-safe.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace hdm {

inline std::string FormatRfc3339(SysTime t) {
  const std::time_t secs = SysClock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace hdm
