// RFC 3339 formatting and parsing in UTC ("2026-11-25T14:52:28Z"). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
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

// Parses "YYYY-MM-DDTHH:MM:SS" with an optional fraction and "Z" or a "+hh:mm"/"-hh:mm" offset
// ('t', 'z' and a space separator accepted). nullopt on anything else, and for a year outside
// 1678-2261 (what SysTime can hold).
inline std::optional<SysTime> ParseRfc3339(std::string_view s) {
  auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (!digits(0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(5, 2, month) || s[7] != '-' ||
      !digits(8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(11, 2, hour) || s[13] != ':' || !digits(14, 2, minute) || s[16] != ':' ||
      !digits(17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  // SysTime counts nanoseconds in 64 bits: 1677-09-21 to 2262-04-11. Beyond the years wholly in
  // that span the conversion would overflow ("0001-01-01T00:00:00Z", Alertmanager's endsAt of a
  // firing alert, among them).
  if (year < 1678 || year > 2261) return std::nullopt;
  size_t pos = 19;
  std::chrono::nanoseconds fraction{0};
  if (pos < s.size() && s[pos] == '.') {
    int64_t scale = 100'000'000;
    ++pos;
    const size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      fraction += std::chrono::nanoseconds((s[pos] - '0') * scale);
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                        std::chrono::day(day)};
  if (!ymd.ok()) return std::nullopt;
  const auto t = std::chrono::sys_days(ymd) + std::chrono::hours(hour) +
                 std::chrono::minutes(minute - offset_minutes) + std::chrono::seconds(second) +
                 fraction;
  return std::chrono::time_point_cast<SysTime::duration>(t);
}

}  // namespace hdm
