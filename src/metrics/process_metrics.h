// The standard process_* families, read from /proc on each scrape (Linux only).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hdm::metrics {

// The fields of /proc/<pid>/stat that the process_* families need, in the kernel's units.
struct ProcStat {
  uint64_t utime_ticks = 0;
  uint64_t stime_ticks = 0;
  uint64_t starttime_ticks = 0;  // since boot
  uint64_t vsize_bytes = 0;
  uint64_t rss_pages = 0;
};

// Parses the content of /proc/<pid>/stat. The command name may hold spaces and parentheses, so
// fields are counted from the last ')'. nullopt when a field is missing or not a number.
std::optional<ProcStat> ParseProcStat(std::string_view text);

// The `btime` line of /proc/stat: boot time in Unix seconds. nullopt when absent.
std::optional<uint64_t> ParseBootTime(std::string_view proc_stat);

// Appends process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds and
// process_start_time_seconds. A family whose source cannot be read is left out. Thread-safe.
void AppendProcessMetrics(std::string& out);

}  // namespace hdm::metrics
