#include "statuspage/status_page.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

#include "common/time_format.h"
#include "statuspage/html.h"

namespace hdm::statuspage {
namespace {

// Order of the table: unhealthy first, then connections whose checks fail (no valid answer),
// then those with no answer yet, then the healthy ones.
enum Rank { kUnhealthy = 0, kFailing = 1, kUnknown = 2, kHealthy = 3 };

Rank RankOf(const ConnectionState& c) {
  if (c.healthy == false) return kUnhealthy;
  if (c.checked && !c.check_success) return kFailing;
  if (!c.healthy) return kUnknown;
  return kHealthy;
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [](char a, char b) {
                       return std::tolower(static_cast<unsigned char>(a)) ==
                              std::tolower(static_cast<unsigned char>(b));
                     }) != haystack.end();
}

std::string Thousands(size_t n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return digits;
}

double SecondsBetween(SysTime from, SysTime to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string Ago(SysTime then, SysTime now) { return FormatAge(SecondsBetween(then, now)) + " ago"; }

std::string Latency(double seconds) {
  char buf[32];
  if (seconds < 1) {
    std::snprintf(buf, sizeof buf, "%.0f ms", seconds * 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f s", seconds);
  }
  return buf;
}

// "2026-12-06 17:44:03Z", in a <time> element.
void AppendTime(std::string& out, SysTime t) {
  const std::string rfc = FormatRfc3339(t);
  out += "<time datetime=\"" + rfc + "\">";
  out += rfc.substr(0, 10) + " " + rfc.substr(11);
  out += "</time>";
}

void AppendFacts(std::string& out, const PageData& d) {
  const FleetSnapshot& f = d.fleet;
  out += "<dl class=\"facts\"><dt>Version</dt><dd>";
  AppendEscaped(out, d.version);
  out += "</dd><dt>Workspace</dt><dd>";
  AppendEscaped(out, d.workspace.empty() ? std::string_view("(not set)") : d.workspace);
  out += "</dd><dt>Up</dt><dd>" + FormatAge(static_cast<double>(d.uptime.count())) + "</dd>";
  out += "<dt>Last discovery</dt><dd>";
  if (f.last_discovery) {
    out += Ago(*f.last_discovery, d.now);
  } else {
    out += "none yet";
  }
  if (!f.last_discovery_error.empty()) {
    out += " <span class=\"st bad\">failed</span>: ";
    AppendEscaped(out, f.last_discovery_error);
  } else if (f.last_discovery) {
    out += " <span class=\"st ok\">ok</span>";
  }
  out += "</dd><dt>Last health round</dt><dd>";
  if (f.last_round_end) {
    char took[48];
    std::snprintf(took, sizeof took, ", took %.2f s", f.last_round_duration_seconds);
    out += Ago(*f.last_round_end, d.now) + took;
  } else {
    out += "none yet";
  }
  out += "</dd></dl>\n";
}

void AppendCounts(std::string& out, const FleetSnapshot& f) {
  size_t counts[4] = {0, 0, 0, 0};
  size_t failing = 0;
  for (const auto& c : f.connections) {
    if (c.checked && !c.check_success) ++failing;
    if (c.healthy == false) {
      ++counts[kUnhealthy];
    } else if (c.healthy == true) {
      ++counts[kHealthy];
    } else {
      ++counts[kUnknown];
    }
  }
  out += "<p class=\"counts\" id=\"counts\">";
  out += "<span class=\"pill " + std::string(counts[kUnhealthy] ? "bad" : "none") + "\">" +
         Thousands(counts[kUnhealthy]) + " unhealthy</span> ";
  out += "<span class=\"pill ok\">" + Thousands(counts[kHealthy]) + " healthy</span> ";
  out += "<span class=\"pill unk\">" + Thousands(counts[kUnknown]) + " unknown</span> ";
  out += "<span class=\"pill " + std::string(failing ? "warn" : "none") + "\">" +
         Thousands(failing) + (failing == 1 ? " check" : " checks") + " failing</span> ";
  out += "of " + Thousands(f.connections.size()) + " connections</p>\n";
}

void AppendSafety(std::string& out, const SafetyState& s) {
  out += "<section id=\"safety\"><h2>Safety</h2>\n<ul class=\"safety\">";
  if (!s.has_policies) {
    out += "<li>No policy is configured: nothing is ever purged.</li>";
  }
  const bool spent = s.budget_remaining <= 0;
  out += "<li class=\"" + std::string(spent ? "bad" : "ok") + "\">Purge budget: <b>" +
         std::to_string(s.budget_remaining) + " of " + std::to_string(s.budget_limit) +
         " left</b> in the last hour" + (spent ? " (spent: purges are held)" : "") + "</li>";
  if (s.outage_pause) {
    out +=
        "<li class=\"bad\">Outage pause: <b>on</b>, every purge is held (many connections "
        "unhealthy at once)</li>";
  } else {
    out += "<li class=\"ok\">Outage pause: <b>off</b></li>";
  }
  if (s.maintenance_in_force.empty()) {
    out += "<li class=\"ok\">Maintenance window: <b>none in force</b></li>";
  } else {
    out += "<li class=\"warn\">Maintenance window: <b>in force</b>, purges are held: ";
    for (size_t i = 0; i < s.maintenance_in_force.size(); ++i) {
      if (i) out += "; ";
      AppendEscaped(out, s.maintenance_in_force[i]);
    }
    out += "</li>";
  }
  if (s.dry_run) {
    out += "<li class=\"warn\">Dry run: <b>on</b>, decisions are recorded, no purge is sent</li>";
  } else {
    out += "<li class=\"ok\">Dry run: <b>off</b></li>";
  }
  if (s.state_lost) {
    out +=
        "<li class=\"bad\">State-lost hold: <b>on</b>, every purge is held: the state file could "
        "not be used (<code>hotdata-monitor state clear-hold</code> ends it)</li>";
  } else {
    out += "<li class=\"ok\">State-lost hold: <b>off</b></li>";
  }
  out += "</ul></section>\n";
}

void AppendRow(std::string& out, const ConnectionState& c, SysTime now) {
  const Rank rank = RankOf(c);
  const std::string_view word = StatusWord(c);
  out += "<tr class=\"";
  out += word;
  out += "\" data-id=\"";
  AppendEscaped(out, c.info.id);
  out += "\" data-status=\"";
  out += word;
  out += "\"><td>";
  AppendEscaped(out, c.info.name);
  out += "</td><td><code>";
  AppendEscaped(out, c.info.id);
  out += "</code></td><td>";
  AppendEscaped(out, c.info.source_type);
  out += "</td><td><span class=\"st ";
  out += rank == kUnhealthy ? "bad\">&#x2717; unhealthy"
         : c.healthy        ? "ok\">&#x2713; healthy"
                            : "unk\">? unknown";
  out += "</span>";
  if (rank == kUnhealthy && !c.last_answer_error.empty()) {
    out += "<small>";
    AppendEscaped(out, c.last_answer_error);
    out += "</small>";
  }
  if (c.checked && !c.check_success) {
    out += "<small class=\"warn\">check failing: ";
    AppendEscaped(out, c.last_check_error);
    out += "</small>";
  }
  out += "</td><td>";
  out += c.latency_seconds ? Latency(*c.latency_seconds) : std::string("&#x2014;");
  out += "</td><td>";
  out += c.checked ? Ago(c.last_check, now) : std::string("never");
  out += "</td><td>";
  out += std::to_string(c.consecutive_failures);
  out += "</td><td>";
  out += c.last_purge ? Ago(*c.last_purge, now) : std::string("never");
  out += "</td></tr>\n";
}

void AppendConnections(std::string& out, const PageData& d, const PageOptions& o) {
  std::vector<const ConnectionState*> rows;
  rows.reserve(d.fleet.connections.size());
  for (const auto& c : d.fleet.connections) {
    if (MatchesFilter(c, o.filter)) rows.push_back(&c);
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const ConnectionState* a, const ConnectionState* b) {
                     const Rank ra = RankOf(*a);
                     const Rank rb = RankOf(*b);
                     if (ra != rb) return ra < rb;
                     if (ra == kUnhealthy && a->consecutive_failures != b->consecutive_failures) {
                       return a->consecutive_failures > b->consecutive_failures;
                     }
                     return a->info.name < b->info.name;
                   });
  size_t others = 0;  // listed rows that are not unhealthy
  size_t hidden[4] = {0, 0, 0, 0};
  std::string table;
  for (const ConnectionState* c : rows) {
    const Rank rank = RankOf(*c);
    if (rank != kUnhealthy && others >= o.healthy_cap) {
      ++hidden[rank];
      continue;
    }
    if (rank != kUnhealthy) ++others;
    AppendRow(table, *c, d.now);
  }
  const size_t shown = rows.size() - hidden[kFailing] - hidden[kUnknown] - hidden[kHealthy];

  out += "<section id=\"connections\"><h2>Connections</h2>\n<p class=\"shown\">Showing " +
         Thousands(shown) + " of " + Thousands(d.fleet.connections.size()) + " connections";
  if (!o.filter.empty()) {
    out += " (" + Thousands(rows.size()) + " match <q>";
    AppendEscaped(out, o.filter);
    out += "</q>)";
  }
  out += ", unhealthy first.</p>\n";
  if (rows.empty()) {
    out += d.fleet.connections.empty() ? "<p class=\"empty\">No connection is monitored yet.</p>"
                                       : "<p class=\"empty\">No connection matches the filter.</p>";
  } else {
    out +=
        "<table class=\"conns\"><thead><tr><th>Name</th><th>ID</th><th>Source type</th>"
        "<th>Status</th><th>Latency</th><th>Last check</th><th>Unhealthy streak</th>"
        "<th>Last purge</th></tr></thead>\n<tbody>\n";
    out += table;
    out += "</tbody></table>\n";
  }
  const size_t more = hidden[kFailing] + hidden[kUnknown] + hidden[kHealthy];
  if (more > 0) {
    out += "<p class=\"more\" id=\"more\">and " + Thousands(more) + " more not listed (";
    bool first = true;
    const std::pair<Rank, const char*> kinds[] = {
        {kFailing, "with failing checks"}, {kUnknown, "unknown"}, {kHealthy, "healthy"}};
    for (const auto& [rank, word] : kinds) {
      if (!hidden[rank]) continue;
      out += first ? "" : ", ";
      out += Thousands(hidden[rank]) + " " + word;
      first = false;
    }
    out += ") &#x2014; use the filter to find them.</p>\n";
  }
  out += "</section>\n";
}

std::string_view OutcomeClass(std::string_view outcome) {
  if (outcome == "success") return "ok";
  if (outcome == "failed" || outcome.starts_with("hold")) return "bad";
  if (outcome == "dry_run") return "unk";
  return "warn";
}

void AppendDecisions(std::string& out, const PageData& d, const PageOptions& o) {
  out += "<section id=\"decisions\"><h2>Latest policy decisions</h2>\n";
  if (d.decisions.empty()) {
    out += "<p class=\"empty\">No decision yet.</p></section>\n";
    return;
  }
  out +=
      "<table class=\"decisions\"><thead><tr><th>Time (UTC)</th><th>Policy</th><th>Target</th>"
      "<th>Outcome</th><th>Reason</th></tr></thead>\n<tbody>\n";
  const size_t n = std::min(o.decisions, d.decisions.size());
  for (size_t i = 0; i < n; ++i) {
    const DecisionRow& r = d.decisions[i];
    out += "<tr><td>";
    AppendTime(out, r.time);
    out += " <small>" + Ago(r.time, d.now) + "</small></td><td>";
    AppendEscaped(out, r.policy.empty() ? std::string_view("\xe2\x80\x94") : r.policy);
    out += "</td><td>";
    AppendEscaped(out, r.target);
    out += "</td><td><span class=\"st ";
    out += OutcomeClass(r.outcome);
    out += "\">";
    AppendEscaped(out, r.outcome);
    out += "</span></td><td>";
    if (!r.reason.empty()) {
      out += "<b>";
      AppendEscaped(out, r.reason);
      out += "</b>";
      if (!r.detail.empty()) out += ": ";
    }
    AppendEscaped(out, r.detail);
    out += "</td></tr>\n";
  }
  out += "</tbody></table>\n";
  if (d.decisions.size() > n) {
    out +=
        "<p class=\"more\">Older decisions: <a href=\"/api/v1/actions\">/api/v1/actions</a>.</p>\n";
  }
  out += "</section>\n";
}

}  // namespace

std::string_view StatusWord(const ConnectionState& c) {
  if (!c.healthy) return "unknown";
  return *c.healthy ? "healthy" : "unhealthy";
}

bool MatchesFilter(const ConnectionState& c, std::string_view filter) {
  size_t pos = 0;
  while (pos < filter.size()) {
    const size_t start = filter.find_first_not_of(" \t\r\n", pos);
    if (start == std::string_view::npos) break;
    size_t end = filter.find_first_of(" \t\r\n", start);
    if (end == std::string_view::npos) end = filter.size();
    const std::string_view term = filter.substr(start, end - start);
    pos = end;
    const bool failing = c.checked && !c.check_success;
    const bool matches =
        ContainsIgnoreCase(c.info.name, term) || ContainsIgnoreCase(c.info.id, term) ||
        ContainsIgnoreCase(c.info.source_type, term) ||
        (term.size() == StatusWord(c).size() && ContainsIgnoreCase(StatusWord(c), term)) ||
        (failing && term.size() == 7 && ContainsIgnoreCase("failing", term));
    if (!matches) return false;
  }
  return true;
}

int RefreshSeconds(const FleetSnapshot& fleet) {
  const double interval = fleet.check_interval_seconds;
  if (!(interval > 0)) return 5;
  return static_cast<int>(std::clamp(interval, 2.0, 10.0));
}

std::string RenderLive(const PageData& data, const PageOptions& options) {
  std::string out;
  out.reserve(64 * 1024);
  out += "<div id=\"live\" data-refresh=\"" + std::to_string(RefreshSeconds(data.fleet)) +
         "\" data-rendered=\"" + FormatRfc3339(data.now) + "\">\n";
  AppendFacts(out, data);
  AppendCounts(out, data.fleet);
  AppendSafety(out, data.safety);
  AppendConnections(out, data, options);
  AppendDecisions(out, data, options);
  out += "</div>\n";
  return out;
}

std::string RenderPage(const PageData& data, const PageOptions& options) {
  std::string out;
  out +=
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  AppendEscaped(out, data.workspace.empty() ? std::string("hotdata-monitor")
                                            : "hotdata-monitor \xc2\xb7 " + data.workspace);
  out +=
      "</title>\n<link rel=\"stylesheet\" href=\"/status.css\">\n"
      "<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\n"
      "<script src=\"/status.js\" defer></script>\n</head><body>\n"
      "<header><h1>hotdata-monitor</h1>"
      "<nav><a href=\"/metrics\">metrics</a> <a href=\"/api/v1/status\">status JSON</a> "
      "<a href=\"/api/v1/actions\">actions JSON</a> <a href=\"/healthz\">healthz</a> "
      "<a href=\"/readyz\">readyz</a></nav></header>\n"
      "<form method=\"get\" action=\"/\" id=\"filter\" role=\"search\">"
      "<label for=\"q\" title=\"Every word must be part of the name, id or source type, or be a "
      "status: unhealthy, healthy, unknown, failing\">Filter connections</label> "
      "<input type=\"search\" id=\"q\" name=\"q\" autocomplete=\"off\" "
      "placeholder=\"name, id, source type, or a status: unhealthy, failing...\" value=\"";
  AppendEscaped(out, options.filter);
  out +=
      "\"> <button type=\"submit\">Filter</button> <a href=\"/\">clear</a> "
      "<span id=\"refresh\" aria-live=\"polite\">Reload the page for fresh data.</span></form>\n";
  out += RenderLive(data, options);
  out += "</body></html>\n";
  return out;
}

}  // namespace hdm::statuspage
