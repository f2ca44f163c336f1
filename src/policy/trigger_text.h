// The texts that explain why a policy fired ("trigger" in the audit log) and why a decision was
// held back ("detail"). Written for the person on call: what held, for how long, how many
// answers. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "common/clock.h"
#include "config/config.h"

namespace hdm::policy {

// A span for people: whole seconds ("12m", "1h30m5s"); below a second in ms ("250ms").
std::string FormatSpan(SysTime::duration d);
// Seconds with up to three significant digits: "2.41s", "0.5s", "12s".
std::string FormatSeconds(double seconds);

// "unhealthy for 5m (11 unhealthy answers in a row)"
std::string UnhealthyText(int64_t answers, SysTime::duration held);
// "recovered after 4 unhealthy answers (12m down)"
std::string RecoveredText(int64_t answers, SysTime::duration down);
// "latency above 2s for 10m (21 answers, latest 2.41s)"
std::string LatencyText(Millis threshold, SysTime::duration held, int64_t answers,
                        double latest_seconds);
// "schedule \"0 3 * * *\" at 2024-05-01T03:00:00Z" or "schedule every 6h at ..."
std::string ScheduleText(const WhenConfig& when, SysTime point);
// "table public.orders stale: synced 7h5m ago (max_age 6h)"
std::string StaleText(const TableRef& table, SysTime::duration age, Millis max_age);
// "alert HotdataQueryLatencyHigh firing since 2025-03-04T09:12:41Z: Queries through prod-pg take
// 2.7s" (the summary, when not empty, on one line and at most 200 bytes).
std::string AlertText(const std::string& alertname, SysTime starts_at, const std::string& summary);
// "public.orders", or "\"eu.sales\".\"Order Items\"" when a part has a dot or a space.
std::string TableText(const TableRef& table);

}  // namespace hdm::policy
