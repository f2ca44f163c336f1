#include "metrics/process_metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <limits>

#include "metrics/exposition.h"

namespace hdm::metrics {

namespace {

// The whole of a small /proc file; "" when it cannot be read.
std::string ReadProcFile(const char* path) {
  std::string content;
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return content;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    content.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return content;
}

// Splits off the next space-separated field of `rest`.
std::string_view NextField(std::string_view& rest) {
  const size_t begin = rest.find_first_not_of(' ');
  if (begin == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(begin);
  const size_t end = std::min(rest.find_first_of(" \n"), rest.size());
  std::string_view field = rest.substr(0, end);
  rest.remove_prefix(end);
  return field;
}

bool ParseU64(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Entries of /proc/self/fd, the descriptor reading it included; nullopt when unreadable.
std::optional<uint64_t> CountOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  uint64_t n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n;
}

// Process start in Unix seconds; constant for the life of the process, so read once.
std::optional<double> StartTimeSeconds(const ProcStat& stat) {
  static const std::optional<uint64_t> boot = ParseBootTime(ReadProcFile("/proc/stat"));
  static const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  if (!boot || ticks_per_second <= 0) return std::nullopt;
  return static_cast<double>(*boot) +
         static_cast<double>(stat.starttime_ticks) / static_cast<double>(ticks_per_second);
}

}  // namespace

std::optional<ProcStat> ParseProcStat(std::string_view text) {
  const size_t paren = text.rfind(')');
  if (paren == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(paren + 1);
  // Field numbers as in proc(5); the first after ')' is field 3 (state).
  ProcStat stat;
  struct Wanted {
    int field;
    uint64_t* into;
  };
  const Wanted wanted[] = {{14, &stat.utime_ticks},
                           {15, &stat.stime_ticks},
                           {22, &stat.starttime_ticks},
                           {23, &stat.vsize_bytes},
                           {24, &stat.rss_pages}};
  int field = 3;
  for (const Wanted& w : wanted) {
    std::string_view value;
    while (field <= w.field) {
      value = NextField(rest);
      if (value.empty()) return std::nullopt;
      ++field;
    }
    if (!ParseU64(value, *w.into)) return std::nullopt;
  }
  return stat;
}

std::optional<uint64_t> ParseBootTime(std::string_view proc_stat) {
  constexpr std::string_view kKey = "btime ";
  size_t pos = 0;
  while (pos < proc_stat.size()) {
    const size_t eol = std::min(proc_stat.find('\n', pos), proc_stat.size());
    std::string_view line = proc_stat.substr(pos, eol - pos);
    if (line.starts_with(kKey)) {
      line.remove_prefix(kKey.size());
      uint64_t value = 0;
      if (ParseU64(NextField(line), value)) return value;
      return std::nullopt;
    }
    pos = eol + 1;
  }
  return std::nullopt;
}

void AppendProcessMetrics(std::string& out) {
  if (const std::optional<ProcStat> stat = ParseProcStat(ReadProcFile("/proc/self/stat"))) {
    const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
    const long page_size = ::sysconf(_SC_PAGESIZE);
    if (ticks_per_second > 0) {
      FamilyWriter(out, {"process_cpu_seconds_total",
                         "Total user and system CPU time spent in seconds.", "counter"})
          .Sample("", static_cast<double>(stat->utime_ticks + stat->stime_ticks) /
                          static_cast<double>(ticks_per_second));
    }
    if (page_size > 0) {
      FamilyWriter(out,
                   {"process_resident_memory_bytes", "Resident memory size in bytes.", "gauge"})
          .Sample("", stat->rss_pages * static_cast<uint64_t>(page_size));
    }
    FamilyWriter(out, {"process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge"})
        .Sample("", stat->vsize_bytes);
    if (const std::optional<double> start = StartTimeSeconds(*stat)) {
      FamilyWriter(out, {"process_start_time_seconds",
                         "Start time of the process since unix epoch in seconds.", "gauge"})
          .Sample("", *start);
    }
  }
  if (const std::optional<uint64_t> fds = CountOpenFds()) {
    FamilyWriter(out, {"process_open_fds", "Number of open file descriptors.", "gauge"})
        .Sample("", *fds);
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    const double max_fds = limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<double>::infinity()
                                                           : static_cast<double>(limit.rlim_cur);
    FamilyWriter(out, {"process_max_fds", "Maximum number of open file descriptors.", "gauge"})
        .Sample("", max_fds);
  }
}

}  // namespace hdm::metrics
