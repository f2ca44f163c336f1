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

std::string AlertText(const std::string& alertname, SysTime starts_at, const std::string& summary) {
  std::string out = "alert " + alertname + " firing since " + FormatRfc3339(starts_at);
  if (summary.empty()) return out;
  constexpr size_t kMaxSummary = 200;
  std::string line;
  for (char c : summary) {
    if (line.size() >= kMaxSummary) {
      // Cut on a character boundary: drop a partial UTF-8 sequence.
      while (!line.empty() && (static_cast<unsigned char>(line.back()) & 0xC0) == 0x80) {
        line.pop_back();
      }
      if (!line.empty() && (static_cast<unsigned char>(line.back()) & 0x80) != 0) line.pop_back();
      line += "...";
      break;
    }
    const bool control = static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    if (control && (line.empty() || line.back() == ' ')) continue;
    line += control ? ' ' : c;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line.empty() ? out : out + ": " + line;
}

std::string TableText(const TableRef& table) {
  return QuoteIfNeeded(table.schema) + "." + QuoteIfNeeded(table.table);
}

}  // namespace hdm::policy
