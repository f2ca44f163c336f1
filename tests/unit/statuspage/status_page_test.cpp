// The status page's renderer: escaping, order, the cap, the filter, the safety block and the
// decisions, on plain PageData (no server, no clock).
#include "statuspage/status_page.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <string>

#include "statuspage/html.h"

namespace hdm::statuspage {
namespace {

using std::chrono::seconds;

const SysTime kNow = SysTime{} + std::chrono::hours(24 * 365 * 56);

ConnectionState Connection(const std::string& id, const std::string& name,
                           std::optional<bool> healthy, const std::string& source = "postgres") {
  ConnectionState c;
  c.info.id = id;
  c.info.name = name;
  c.info.source_type = source;
  c.healthy = healthy;
  if (healthy) {
    c.latency_seconds = 0.012;
    c.checked = true;
    c.check_success = true;
    c.last_check = kNow - seconds(3);
    c.last_answer = c.last_check;
    if (!*healthy) {
      c.consecutive_failures = 4;
      c.last_answer_error = "connection refused";
    }
  }
  return c;
}

PageData Data() {
  PageData d;
  d.now = kNow;
  d.version = "0.1.0";
  d.workspace = "ws_1";
  d.uptime = seconds(3725);
  d.fleet.taken = kNow;
  d.fleet.discovered = true;
  d.fleet.last_discovery = kNow - seconds(20);
  d.fleet.check_interval_seconds = 5;
  d.safety = {.has_policies = true, .budget_remaining = 7, .budget_limit = 10};
  return d;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// The data-id attributes of the connection rows, in page order.
std::vector<std::string> RowIds(const std::string& html) {
  std::vector<std::string> ids;
  const std::regex row("<tr class=\"[a-z]+\" data-id=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), row); it != std::sregex_iterator();
       ++it) {
    ids.push_back((*it)[1]);
  }
  return ids;
}

// A fleet like tests/bench's: n connections, one in `unhealthy_every` unhealthy.
FleetSnapshot Fleet(int n, int unhealthy_every) {
  FleetSnapshot f;
  f.taken = kNow;
  f.discovered = true;
  f.check_interval_seconds = 30;
  for (int i = 1; i <= n; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "conn_%05d", i);
    auto c = Connection(id, "prod-postgres-" + std::to_string(i), i % unhealthy_every != 0);
    c.last_purge = kNow - seconds(i);
    f.connections.push_back(std::move(c));
  }
  return f;
}

TEST(StatusPageTest, EveryStringFromTheApiAndTheConfigIsEscaped) {
  PageData d = Data();
  d.workspace = "<b>ws</b>";
  d.version = "1<2";
  auto evil = Connection("conn_\"1'", "<img src=x onerror=alert(1)>", false, "pg&<mysql>");
  evil.last_answer_error = "<script>alert(2)</script>";
  evil.checked = true;
  evil.check_success = false;
  evil.last_check_error = "bad \"body\" <i>";
  d.fleet.connections.push_back(evil);
  d.fleet.connections.push_back(Connection("c2", "Tom & Jerry's \"db\"", true));
  d.fleet.last_discovery_error = "<svg onload=alert(3)>";
  d.safety.maintenance_in_force = {"\"<0 2 * * 6>\" until later"};
  d.decisions.push_back({.time = kNow,
                         .policy = "<p>olicy",
                         .target = "<img src=y> (conn_1)",
                         .outcome = "suppressed",
                         .reason = "cooldown",
                         .detail = "until <soon>"});
  // Rendered once as is, once with a filter that matches nothing and is echoed in the box.
  const std::string html =
      RenderPage(d, {}) + RenderPage(d, {.filter = "\"><script>alert(4)</script>"});

  EXPECT_NE(html.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  EXPECT_NE(html.find("Tom &amp; Jerry&#39;s &quot;db&quot;"), std::string::npos);
  EXPECT_NE(html.find("data-id=\"conn_&quot;1&#39;\""), std::string::npos);
  EXPECT_NE(html.find("value=\"&quot;&gt;&lt;script&gt;alert(4)&lt;/script&gt;\""),
            std::string::npos);
  for (const char* raw : {"<img", "<svg", "<b>ws", "<p>olicy", "<soon>", "<i>", "<mysql>", "<0 2",
                          "1<2", "alert(2)</script>", "alert(4)</script>"}) {
    EXPECT_EQ(html.find(raw), std::string::npos) << raw;
  }
  // The only script is the page's own, loaded from its origin.
  EXPECT_EQ(Count(html, "<script"), 2u);
  EXPECT_NE(html.find("<script src=\"/status.js\" defer></script>"), std::string::npos);
}

TEST(StatusPageTest, HasNoInlineStyleOrEventHandlerThatTheCspWouldBlock) {
  PageData d = Data();
  d.fleet = Fleet(50, 7);
  d.decisions.push_back({.time = kNow, .policy = "p", .outcome = "success"});
  const std::string html = RenderPage(d, {});
  EXPECT_EQ(html.find(" style="), std::string::npos);
  EXPECT_EQ(html.find("<style"), std::string::npos);
  EXPECT_FALSE(std::regex_search(html, std::regex("\\son[a-z]+=")));
  EXPECT_FALSE(std::regex_search(html, std::regex("(src|href)=\"(https?:)?//")));  // no other site
  EXPECT_NE(html.find("<link rel=\"stylesheet\" href=\"/status.css\">"), std::string::npos);
}

TEST(StatusPageTest, ListsUnhealthyConnectionsFirstWithStatusInWordsAndColour) {
  PageData d = Data();
  d.fleet.connections = {Connection("c1", "alpha", true), Connection("c2", "beta", false),
                         Connection("c3", "gamma", std::nullopt), Connection("c4", "delta", false),
                         Connection("c5", "epsilon", true)};
  d.fleet.connections[3].consecutive_failures = 9;  // the longer streak comes first
  d.fleet.connections[4].checked = true;            // healthy, but its last check failed
  d.fleet.connections[4].check_success = false;
  d.fleet.connections[4].last_check_error = "timeout";
  const std::string html = RenderPage(d, {});
  EXPECT_EQ(RowIds(html), (std::vector<std::string>{"c4", "c2", "c5", "c3", "c1"}));
  EXPECT_NE(html.find("<span class=\"st bad\">&#x2717; unhealthy</span>"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"st ok\">&#x2713; healthy</span>"), std::string::npos);
  EXPECT_NE(html.find("<span class=\"st unk\">? unknown</span>"), std::string::npos);
  EXPECT_NE(html.find("check failing: timeout"), std::string::npos);
  EXPECT_NE(html.find("2 unhealthy</span>"), std::string::npos);
  EXPECT_NE(html.find("2 healthy</span>"), std::string::npos);
  EXPECT_NE(html.find("1 unknown</span>"), std::string::npos);
  EXPECT_NE(html.find("1 check failing</span>"), std::string::npos);
  EXPECT_NE(html.find("of 5 connections"), std::string::npos);
}

TEST(StatusPageTest, ListsEveryUnhealthyConnectionAndCapsTheOthersWithACount) {
  PageData d = Data();
  d.fleet = Fleet(1000, 4);  // 250 unhealthy, 750 healthy
  d.fleet.connections.push_back(Connection("conn_x", "never-answered", std::nullopt));
  const std::string html = RenderPage(d, {.healthy_cap = 100});
  const auto ids = RowIds(html);
  ASSERT_EQ(ids.size(), 350u);
  EXPECT_EQ(Count(html, "data-status=\"unhealthy\""), 250u);
  EXPECT_EQ(Count(html, "data-status=\"unknown\""), 1u);  // before the healthy ones
  EXPECT_EQ(Count(html, "data-status=\"healthy\""), 99u);
  EXPECT_NE(html.find("Showing 350 of 1,001 connections"), std::string::npos);
  EXPECT_NE(html.find("and 651 more not listed (651 healthy) &#x2014; use the filter"),
            std::string::npos);
}

TEST(StatusPageTest, TheFilterReachesConnectionsBeyondTheCap) {
  PageData d = Data();
  d.fleet = Fleet(10'000, 100);
  const std::string all = RenderPage(d, {});
  EXPECT_EQ(all.find("conn_09999"), std::string::npos);  // healthy, past the cap
  const std::string one = RenderPage(d, {.filter = "conn_09999"});
  EXPECT_EQ(RowIds(one), std::vector<std::string>{"conn_09999"});
  EXPECT_NE(one.find("(1 match <q>conn_09999</q>)"), std::string::npos);
  EXPECT_EQ(one.find("more not listed"), std::string::npos);
}

TEST(StatusPageTest, FilterTermsMatchNameIdSourceTypeOrTheExactStatusWord) {
  auto c = Connection("conn_0042", "Prod-PG-42", false, "postgres");
  EXPECT_TRUE(MatchesFilter(c, ""));
  EXPECT_TRUE(MatchesFilter(c, "  "));
  EXPECT_TRUE(MatchesFilter(c, "prod-pg"));  // case-insensitive
  EXPECT_TRUE(MatchesFilter(c, "0042"));
  EXPECT_TRUE(MatchesFilter(c, "postgres"));
  EXPECT_TRUE(MatchesFilter(c, "unhealthy"));
  EXPECT_TRUE(MatchesFilter(c, "UNHEALTHY prod"));  // every term must match
  EXPECT_FALSE(MatchesFilter(c, "unhealthy mysql"));
  EXPECT_FALSE(MatchesFilter(c, "healthy"));  // the status word is matched whole
  EXPECT_FALSE(MatchesFilter(c, "failing"));
  c.checked = true;
  c.check_success = false;
  EXPECT_TRUE(MatchesFilter(c, "failing"));
  EXPECT_TRUE(MatchesFilter(Connection("a", "b", true), "healthy"));
  EXPECT_FALSE(MatchesFilter(Connection("a", "b", true), "unhealthy"));
  EXPECT_TRUE(MatchesFilter(Connection("a", "b", std::nullopt), "unknown"));

  PageData d = Data();
  d.fleet.connections = {Connection("c1", "x", true), Connection("c2", "y", false)};
  EXPECT_EQ(RowIds(RenderPage(d, {.filter = "healthy"})), std::vector<std::string>{"c1"});
  EXPECT_NE(RenderPage(d, {.filter = "nothing"}).find("No connection matches the filter."),
            std::string::npos);
}

TEST(StatusPageTest, TheSafetyBlockTellsBudgetPauseMaintenanceDryRunAndHold) {
  PageData d = Data();
  std::string html = RenderLive(d, {});
  EXPECT_NE(html.find("Purge budget: <b>7 of 10 left</b>"), std::string::npos);
  EXPECT_NE(html.find("Outage pause: <b>off</b>"), std::string::npos);
  EXPECT_NE(html.find("Maintenance window: <b>none in force</b>"), std::string::npos);
  EXPECT_NE(html.find("Dry run: <b>off</b>"), std::string::npos);
  EXPECT_NE(html.find("State-lost hold: <b>off</b>"), std::string::npos);

  d.safety = {.has_policies = true,
              .budget_remaining = 0,
              .budget_limit = 10,
              .outage_pause = true,
              .state_lost = true,
              .dry_run = true,
              .maintenance_in_force = {"\"0 2 * * 6\" until 2026-12-05T04:00:00Z"}};
  html = RenderLive(d, {});
  EXPECT_NE(html.find("<li class=\"bad\">Purge budget: <b>0 of 10 left</b> in the last hour "
                      "(spent: purges are held)"),
            std::string::npos);
  EXPECT_NE(html.find("<li class=\"bad\">Outage pause: <b>on</b>"), std::string::npos);
  EXPECT_NE(html.find("Maintenance window: <b>in force</b>, purges are held: &quot;0 2 * * "
                      "6&quot; until 2026-12-05T04:00:00Z"),
            std::string::npos);
  EXPECT_NE(html.find("Dry run: <b>on</b>"), std::string::npos);
  EXPECT_NE(html.find("<li class=\"bad\">State-lost hold: <b>on</b>"), std::string::npos);

  d.safety.has_policies = false;
  EXPECT_NE(RenderLive(d, {}).find("No policy is configured"), std::string::npos);
}

TEST(StatusPageTest, ListsTheLatestDecisionsWithOutcomeAndReason) {
  PageData d = Data();
  EXPECT_NE(RenderLive(d, {}).find("No decision yet."), std::string::npos);
  for (int i = 0; i < 30; ++i) {
    d.decisions.push_back(
        {.time = kNow - seconds(i),
         .policy = "purge-" + std::to_string(i),
         .target = "prod-pg-01 (conn_0001)",
         .outcome = i == 0 ? "success" : "suppressed",
         .reason = i == 0 ? "" : "cooldown",
         .detail = i == 0 ? "recovered after 3 unhealthy answers" : "cooldown until later"});
  }
  const std::string html = RenderLive(d, {.decisions = 25});
  EXPECT_NE(html.find("<td>purge-0</td><td>prod-pg-01 (conn_0001)</td><td><span class=\"st "
                      "ok\">success</span></td><td>recovered after 3 unhealthy answers</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<span class=\"st warn\">suppressed</span></td><td><b>cooldown</b>: "
                      "cooldown until later"),
            std::string::npos);
  EXPECT_NE(html.find("purge-24"), std::string::npos);
  EXPECT_EQ(html.find("purge-25"), std::string::npos);
  EXPECT_NE(html.find("href=\"/api/v1/actions\""), std::string::npos);
  EXPECT_LT(html.find("purge-0<"), html.find("purge-1<"));  // most recent first
}

TEST(StatusPageTest, ShowsVersionWorkspaceUptimeAndDiscovery) {
  PageData d = Data();
  std::string html = RenderPage(d, {});
  EXPECT_NE(html.find("<title>hotdata-monitor \xc2\xb7 ws_1</title>"), std::string::npos);
  EXPECT_NE(html.find("<dt>Version</dt><dd>0.1.0</dd>"), std::string::npos);
  EXPECT_NE(html.find("<dt>Workspace</dt><dd>ws_1</dd>"), std::string::npos);
  EXPECT_NE(html.find("<dt>Up</dt><dd>1h 2m</dd>"), std::string::npos);
  EXPECT_NE(html.find("<dt>Last discovery</dt><dd>20s ago <span class=\"st ok\">ok</span>"),
            std::string::npos);
  d.fleet.last_discovery_error = "HTTP 401";
  html = RenderPage(d, {});
  EXPECT_NE(html.find("<span class=\"st bad\">failed</span>: HTTP 401"), std::string::npos);
}

TEST(StatusPageTest, TheLiveBlockIsThePagesOwnAndCarriesItsRefreshPeriod) {
  PageData d = Data();
  d.fleet = Fleet(20, 3);
  const std::string live = RenderLive(d, {.filter = "prod"});
  EXPECT_TRUE(live.starts_with("<div id=\"live\" data-refresh=\"10\""));  // interval 30 s
  EXPECT_NE(RenderPage(d, {.filter = "prod"}).find(live), std::string::npos);
  d.fleet.check_interval_seconds = 0.5;
  EXPECT_EQ(RefreshSeconds(d.fleet), 2);
  d.fleet.check_interval_seconds = 300;
  EXPECT_EQ(RefreshSeconds(d.fleet), 10);
}

// The bound. Sizes only: times are measured by tests/bench/status_page_bench.cpp.
TEST(StatusPageTest, AtTenThousandConnectionsThePageStaysUnderOneMegabyte) {
  PageData d = Data();
  for (int i = 0; i < 25; ++i) {
    d.decisions.push_back({.time = kNow,
                           .policy = "purge-after-outage",
                           .target = "prod-postgres-1 (conn_00001)",
                           .outcome = "suppressed",
                           .reason = "cooldown",
                           .detail = "cooldown until 2026-12-06T18:00:00Z"});
  }
  for (const int unhealthy_every : {100, 10}) {  // 100 and 1,000 unhealthy, every one listed
    SCOPED_TRACE(unhealthy_every);
    d.fleet = Fleet(10'000, unhealthy_every);
    const std::string html = RenderPage(d, {});
    EXPECT_LT(html.size(), 1'000'000u);
    EXPECT_EQ(Count(html, "data-status=\"unhealthy\""),
              static_cast<size_t>(10'000 / unhealthy_every));
  }
}

TEST(HtmlTest, EscapesAndFormatsAges) {
  EXPECT_EQ(Escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  EXPECT_EQ(FormatAge(-1), "0s");
  EXPECT_EQ(FormatAge(59.9), "59s");
  EXPECT_EQ(FormatAge(61), "1m");
  EXPECT_EQ(FormatAge(3600), "1h");
  EXPECT_EQ(FormatAge(3725), "1h 2m");
  EXPECT_EQ(FormatAge(2 * 86400 + 4 * 3600 + 5), "2d 4h");
}

}  // namespace
}  // namespace hdm::statuspage
