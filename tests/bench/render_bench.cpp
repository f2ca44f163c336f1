// hdm-bench-render: the cost of /metrics at N connections, server side, against the stock
// prometheus-cpp text serializer holding the same per-connection series.
//
//   hdm-bench-render [--connections N] [--runs R] [--mode ours|stock]
//
// ours:  per run, copy a FleetSnapshot of N connections (what Scheduler::Snapshot() does),
//        render it with Metrics::Render, and gzip it at level 1 in two slices at once (what a
//        gzip scrape costs the server), and in one piece for comparison. Prints median and best of
//        each step, the body sizes, and peak RSS.
// stock: the same 9 gauge families x N series in a prometheus-cpp Registry, Collect() plus
//        TextSerializer::Serialize per run.
// One JSON object on stdout, so that tests/bench/run_bench.py can read it.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "health/connection_state.h"
#include "metrics/gzip.h"
#include "metrics/metrics.h"

namespace {

using Clock = std::chrono::steady_clock;

const char* const kSources[] = {"postgres", "mysql", "snowflake", "duckdb", "bigquery"};

hdm::FleetSnapshot MakeFleet(int n) {
  hdm::FleetSnapshot s;
  s.discovered = true;
  const hdm::SysTime now = std::chrono::system_clock::now();
  s.taken = now;
  s.last_round_end = now;
  s.last_discovery = now;
  s.connections.reserve(n);
  for (int i = 1; i <= n; ++i) {
    hdm::ConnectionState c;
    char id[32];
    std::snprintf(id, sizeof id, "conn_%05d", i);
    c.info.id = id;
    c.info.source_type = kSources[i % 5];
    c.info.name = std::string("prod-") + c.info.source_type + "-" + std::to_string(i);
    c.table_count = 4 + i % 17;
    c.synced_table_count = 3 + i % 11;
    c.healthy = i % 97 != 0;
    c.latency_seconds = 0.005 + (i % 40) / 1000.0;
    c.checked = true;
    c.check_success = true;
    c.check_duration_seconds = 0.0004 + (i % 1000) * 1.37e-6;
    c.last_check = now - std::chrono::microseconds(i * 997);
    c.last_answer = c.last_check;
    s.connections.push_back(std::move(c));
  }
  return s;
}

struct Stats {
  double median_ms = 0;
  double best_ms = 0;
};

Stats Time(int runs, const std::function<void()>& f) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Clock::now();
    f();
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.front()};
}

long PeakRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

int RunOurs(int n, int runs) {
  const hdm::FleetSnapshot fleet = MakeFleet(n);
  hdm::Metrics metrics;
  const hdm::PolicyCounters policy;
  size_t text_bytes = 0;
  size_t gzip_bytes = 0;
  std::string text;
  const Stats copy = Time(runs, [&] {
    hdm::FleetSnapshot copy = fleet;
    text_bytes += copy.connections.size();  // keeps the copy from being optimised away
  });
  text_bytes = 0;
  const Stats render = Time(runs, [&] {
    hdm::FleetSnapshot copy = fleet;
    text = metrics.Render(copy, &policy);
    text_bytes = text.size();
  });
  // As the server does it (ScrapeCoalescer): level 1, two slices at once on two cores or more.
  const int parts = std::thread::hardware_concurrency() >= 2 ? 2 : 1;
  const Stats gzip =
      Time(runs, [&] { gzip_bytes = hdm::GzipCompressParallel(text, 1, parts).size(); });
  const Stats gzip_one = Time(runs, [&] { (void)hdm::GzipCompress(text, 1).size(); });
  std::printf(
      "{\"mode\":\"ours\",\"connections\":%d,\"runs\":%d,\"snapshot_copy_median_ms\":%.3f,"
      "\"render_median_ms\":%.3f,\"render_best_ms\":%.3f,\"gzip_median_ms\":%.3f,"
      "\"gzip_best_ms\":%.3f,\"gzip_one_thread_median_ms\":%.3f,\"gzip_parts\":%d,\"text_bytes\":%"
      "zu,\"gzip_bytes\":%zu,\"series\":%zu,"
      "\"peak_rss_kb\":%ld}\n",
      n, runs, copy.median_ms, render.median_ms, render.best_ms, gzip.median_ms, gzip.best_ms,
      gzip_one.median_ms, parts, text_bytes, gzip_bytes,
      static_cast<size_t>(std::count(text.begin(), text.end(), '\n') -
                          std::count(text.begin(), text.end(), '#')),
      PeakRssKb());
  return 0;
}

int RunStock(int n, int runs) {
  const hdm::FleetSnapshot fleet = MakeFleet(n);
  auto registry = std::make_shared<prometheus::Registry>();
  const char* const names[] = {"hotdata_connection_healthy",
                               "hotdata_connection_latency_seconds",
                               "hotdata_connection_check_success",
                               "hotdata_connection_check_duration_seconds",
                               "hotdata_connection_unhealthy_streak",
                               "hotdata_connection_last_check_timestamp_seconds",
                               "hotdata_connection_tables",
                               "hotdata_connection_synced_tables",
                               "hotdata_connection_info"};
  size_t series = 0;
  for (const char* name : names) {
    auto& family = prometheus::BuildGauge().Name(name).Help("help text").Register(*registry);
    for (const hdm::ConnectionState& c : fleet.connections) {
      prometheus::Labels labels{{"connection_id", c.info.id}, {"connection", c.info.name}};
      if (std::strcmp(name, "hotdata_connection_info") == 0) {
        labels.emplace("source_type", c.info.source_type);
      }
      family.Add(labels).Set(c.check_duration_seconds);
      ++series;
    }
  }
  size_t text_bytes = 0;
  const Stats serialize = Time(runs, [&] {
    const prometheus::TextSerializer serializer;
    text_bytes = serializer.Serialize(registry->Collect()).size();
  });
  std::printf(
      "{\"mode\":\"stock\",\"connections\":%d,\"runs\":%d,\"series\":%zu,"
      "\"render_median_ms\":%.3f,\"render_best_ms\":%.3f,\"text_bytes\":%zu,"
      "\"peak_rss_kb\":%ld}\n",
      n, runs, series, serialize.median_ms, serialize.best_ms, text_bytes, PeakRssKb());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 10000;
  int runs = 21;
  std::string mode = "ours";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--connections") {
      n = std::max(1, std::atoi(argv[i + 1]));
    } else if (flag == "--runs") {
      runs = std::max(1, std::atoi(argv[i + 1]));
    } else if (flag == "--mode") {
      mode = argv[i + 1];
    } else {
      std::fprintf(stderr,
                   "usage: hdm-bench-render [--connections N] [--runs R] "
                   "[--mode ours|stock]\n");
      return 2;
    }
  }
  if (mode == "stock") return RunStock(n, runs);
  if (mode == "ours") return RunOurs(n, runs);
  std::fprintf(stderr, "hdm-bench-render: unknown mode %s\n", mode.c_str());
  return 2;
}
