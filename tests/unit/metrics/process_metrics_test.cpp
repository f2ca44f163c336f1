#include "metrics/process_metrics.h"

#include <chrono>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

namespace hdm::metrics {
namespace {

// The 52 fields of a real /proc/<pid>/stat line after the command name.
constexpr std::string_view kAfterComm =
    " S 1 1234 1234 0 -1 4194560 2471 0 12 0 150 37 0 0 20 0 4 0 98765 224239616 3456 "
    "18446744073709551615 1 1 0 0 0 0 0 4096 17003 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

TEST(ProcessMetricsTest, ParsesStatFieldsAfterTheLastParenthesis) {
  for (std::string comm : {"(hotdata-monitor)", "(a b)", "(x) (y) 7 8)", "(()", "())"}) {
    const std::optional<ProcStat> stat = ParseProcStat("4242 " + comm + std::string(kAfterComm));
    ASSERT_TRUE(stat.has_value()) << comm;
    EXPECT_EQ(stat->utime_ticks, 150u) << comm;
    EXPECT_EQ(stat->stime_ticks, 37u) << comm;
    EXPECT_EQ(stat->starttime_ticks, 98765u) << comm;
    EXPECT_EQ(stat->vsize_bytes, 224239616u) << comm;
    EXPECT_EQ(stat->rss_pages, 3456u) << comm;
  }
}

TEST(ProcessMetricsTest, RejectsTruncatedOrMalformedStat) {
  EXPECT_FALSE(ParseProcStat(""));
  EXPECT_FALSE(ParseProcStat("4242 hotdata-monitor S 1 2 3"));
  EXPECT_FALSE(ParseProcStat("4242 (x) S 1 1234 1234 0 -1 4194560 2471 0 12 0 150"));
  EXPECT_FALSE(
      ParseProcStat("4242 (x) S 1 1234 1234 0 -1 4194560 2471 0 12 0 abc 37 0 0 20 "
                    "0 4 0 98765 224239616 3456"));
}

TEST(ProcessMetricsTest, FindsBootTime) {
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1699990000\nprocesses 12\n"), 1699990000u);
  EXPECT_EQ(ParseBootTime("cpu 1\nbtime 17"), 17u);
  EXPECT_FALSE(ParseBootTime("cpu 1\nprocesses 12\n"));
  EXPECT_FALSE(ParseBootTime("xbtime 5\n"));
}

// name -> value of each sample line without labels.
std::map<std::string, double> Samples(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.find(' ');
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

TEST(ProcessMetricsTest, ReportsSaneValuesForThisProcess) {
  std::string out;
  AppendProcessMetrics(out);
  const std::map<std::string, double> s = Samples(out);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();

  ASSERT_EQ(s.size(), 6u) << out;
  EXPECT_GE(s.at("process_cpu_seconds_total"), 0);
  EXPECT_LT(s.at("process_cpu_seconds_total"), 3600);
  EXPECT_GT(s.at("process_resident_memory_bytes"), 1024 * 1024);
  EXPECT_GE(s.at("process_virtual_memory_bytes"), s.at("process_resident_memory_bytes"));
  EXPECT_GE(s.at("process_open_fds"), 3);  // stdin, stdout, stderr
  EXPECT_GE(s.at("process_max_fds"), s.at("process_open_fds"));
  EXPECT_LE(s.at("process_start_time_seconds"), now + 1);
  EXPECT_GT(s.at("process_start_time_seconds"), now - 3600);
}

TEST(ProcessMetricsTest, CpuTimeNeverGoesBackwards) {
  double last = 0;
  volatile uint64_t sink = 0;
  for (int round = 0; round < 5; ++round) {
    for (uint64_t i = 0; i < 2'000'000; ++i) sink = sink + i;
    std::string out;
    AppendProcessMetrics(out);
    const double cpu = Samples(out).at("process_cpu_seconds_total");
    EXPECT_GE(cpu, last);
    last = cpu;
  }
}

}  // namespace
}  // namespace hdm::metrics
