// hdm-bench-status-page: the server-side cost of the status page (GET /) at N connections.
//
//   hdm-bench-status-page [--connections N] [--runs R] [--unhealthy-every K]
//
// Per run: copy a FleetSnapshot of N connections (what Scheduler::Snapshot() does; one in K
// unhealthy, all listed, the others capped at 200), then render the whole page, the live block
// the script fetches (/?fragment=1), and the page filtered to one connection (?q=ID); and gzip the
// page at level 1, as the server does for a browser. Prints the median and best of each and the
// body sizes, as one JSON object on stdout.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "metrics/gzip.h"
#include "statuspage/status_page.h"

namespace {

using Clock = std::chrono::steady_clock;

const char* const kSources[] = {"postgres", "mysql", "snowflake", "duckdb", "bigquery"};

hdm::statuspage::PageData MakeData(int n, int unhealthy_every) {
  hdm::statuspage::PageData d;
  const hdm::SysTime now = std::chrono::system_clock::now();
  d.now = now;
  d.version = "0.1.0";
  d.workspace = "ws_bench";
  d.uptime = std::chrono::hours(30);
  d.fleet.taken = now;
  d.fleet.discovered = true;
  d.fleet.last_discovery = now;
  d.fleet.last_round_end = now;
  d.fleet.check_interval_seconds = 30;
  d.safety = {.has_policies = true, .budget_remaining = 24, .budget_limit = 30};
  for (int i = 1; i <= n; ++i) {
    hdm::ConnectionState c;
    char id[32];
    std::snprintf(id, sizeof id, "conn_%05d", i);
    c.info.id = id;
    c.info.source_type = kSources[i % 5];
    c.info.name = std::string("prod-") + c.info.source_type + "-" + std::to_string(i);
    c.healthy = i % unhealthy_every != 0;
    if (!*c.healthy) {
      c.consecutive_failures = 1 + i % 7;
      c.last_answer_error = "timed out connecting to the source database";
    }
    c.latency_seconds = 0.005 + (i % 40) / 1000.0;
    c.checked = true;
    c.check_success = true;
    c.last_check = now - std::chrono::microseconds(i * 997);
    c.last_answer = c.last_check;
    if (i % 3 == 0) c.last_purge = now - std::chrono::minutes(i % 600);
    d.fleet.connections.push_back(std::move(c));
  }
  for (int i = 0; i < 25; ++i) {
    d.decisions.push_back({.time = now - std::chrono::seconds(i * 40),
                           .policy = "purge-after-outage",
                           .target = "prod-postgres-5 (conn_00005)",
                           .outcome = i % 3 ? "suppressed" : "success",
                           .reason = i % 3 ? "cooldown" : "",
                           .detail = i % 3 ? "cooldown until 2026-12-06T18:00:00Z"
                                           : "recovered after 3 unhealthy answers (2m down)"});
  }
  return d;
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

}  // namespace

int main(int argc, char** argv) {
  int n = 10000;
  int runs = 31;
  int unhealthy_every = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--connections") {
      n = std::max(1, std::atoi(argv[i + 1]));
    } else if (flag == "--runs") {
      runs = std::max(1, std::atoi(argv[i + 1]));
    } else if (flag == "--unhealthy-every") {
      unhealthy_every = std::max(1, std::atoi(argv[i + 1]));
    } else {
      std::fprintf(stderr,
                   "usage: hdm-bench-status-page [--connections N] [--runs R] "
                   "[--unhealthy-every K]\n");
      return 2;
    }
  }
  const hdm::statuspage::PageData data = MakeData(n, unhealthy_every);
  const hdm::statuspage::PageOptions all{};
  hdm::statuspage::PageOptions one{};
  one.filter = data.fleet.connections.back().info.id;
  size_t page_bytes = 0;
  size_t live_bytes = 0;
  size_t filtered_bytes = 0;
  const Stats page = Time(runs, [&] {
    hdm::statuspage::PageData copy = data;
    page_bytes = hdm::statuspage::RenderPage(copy, all).size();
  });
  const Stats live = Time(runs, [&] {
    hdm::statuspage::PageData copy = data;
    live_bytes = hdm::statuspage::RenderLive(copy, all).size();
  });
  const Stats filtered = Time(runs, [&] {
    hdm::statuspage::PageData copy = data;
    filtered_bytes = hdm::statuspage::RenderPage(copy, one).size();
  });
  const std::string body = hdm::statuspage::RenderPage(data, all);
  size_t gzip_bytes = 0;
  const Stats gzip = Time(runs, [&] { gzip_bytes = hdm::GzipCompress(body, 1).size(); });
  std::printf(
      "{\"connections\":%d,\"unhealthy\":%d,\"runs\":%d,\"page_median_ms\":%.3f,"
      "\"page_best_ms\":%.3f,\"page_bytes\":%zu,\"live_median_ms\":%.3f,\"live_bytes\":%zu,"
      "\"filtered_median_ms\":%.3f,\"filtered_bytes\":%zu,\"gzip_median_ms\":%.3f,"
      "\"gzip_bytes\":%zu,\"peak_rss_kb\":%ld}\n",
      n, n / unhealthy_every, runs, page.median_ms, page.best_ms, page_bytes, live.median_ms,
      live_bytes, filtered.median_ms, filtered_bytes, gzip.median_ms, gzip_bytes, PeakRssKb());
  return 0;
}
