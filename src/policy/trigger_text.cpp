#include "policy/trigger_text.h"

#include <cstdio>

#include "common/time_format.h"

namespace hdm::policy {
namespace {

std::string Plural(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string QuoteIfNeeded(const std::string& part) {
  if (part.find_first_of(". \"") == std::string::npos) return part;
  std::string out = "\"";
  for (char c : part) {
    if (c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string FormatSpan(SysTime::duration d) {
  const auto ms = std::chrono::duration_cast<Millis>(d);
  if (ms < std::chrono::seconds(1)) return FormatDuration(ms);
  return FormatDuration(std::chrono::duration_cast<std::chrono::seconds>(d));
}

std::string FormatSeconds(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3gs", seconds);
  return buf;
}

std::string UnhealthyText(int64_t answers, SysTime::duration held) {
  return "unhealthy for " + FormatSpan(held) + " (" +
         Plural(answers, "unhealthy answer", "unhealthy answers in a row") + ")";
}

std::string RecoveredText(int64_t answers, SysTime::duration down) {
  return "recovered after " + Plural(answers, "unhealthy answer", "unhealthy answers") + " (" +
         FormatSpan(down) + " down)";
}

std::string LatencyText(Millis threshold, SysTime::duration held, int64_t answers,
                        double latest_seconds) {
  return "latency above " + FormatDuration(threshold) + " for " + FormatSpan(held) + " (" +
         Plural(answers, "answer", "answers") + ", latest " + FormatSeconds(latest_seconds) + ")";
}

std::string ScheduleText(const WhenConfig& when, SysTime point) {
  const std::string what =
      when.every ? "every " + FormatDuration(*when.every) : "\"" + when.cron_text + "\"";
  return "schedule " + what + " at " + FormatRfc3339(point);
}

std::string StaleText(const TableRef& table, SysTime::duration age, Millis max_age) {
  return "table " + TableText(table) + " stale: synced " + FormatSpan(age) + " ago (max_age " +
         FormatDuration(max_age) + ")";
}

std::string TableText(const TableRef& table) {
  return QuoteIfNeeded(table.schema) + "." + QuoteIfNeeded(table.table);
}

}  // namespace hdm::policy
