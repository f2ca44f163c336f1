// Five-field cron expressions evaluated in UTC: "minute hour day-of-month month day-of-week".
// Fields accept '*', numbers, ranges 'a-b', lists 'a,b', steps '*/n' and 'a-b/n'; day-of-week
// 0-7 (0 and 7 are Sunday). As in Vixie cron, when both day fields are restricted a day matches
// if either does; a day field counts as restricted unless it starts with '*' (so "*/2" does not).
// Month and weekday names (jan, sun) and @yearly, @monthly, @weekly, @daily, @hourly are
// accepted too. Value type; thread-safe to share.
#pragma once

#include <bitset>
#include <chrono>
#include <expected>
#include <string>
#include <string_view>

namespace hdm {

struct CronSpec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // 1..31
  std::bitset<13> months;         // 1..12
  std::bitset<7> days_of_week;    // 0..6, Sunday = 0
  bool dom_restricted = false;
  bool dow_restricted = false;

  // The first minute strictly after `t` that matches, in UTC; time_point::max() when none does
  // within ten years (an impossible date such as "0 0 31 2 *").
  std::chrono::system_clock::time_point NextAfter(std::chrono::system_clock::time_point t) const;
  // True when the minute containing `t` matches.
  bool Matches(std::chrono::system_clock::time_point t) const;
};

// Returns the spec, or a message such as `field 2 (hour): 25 is out of range 0-23`.
std::expected<CronSpec, std::string> ParseCron(std::string_view text);

}  // namespace hdm
