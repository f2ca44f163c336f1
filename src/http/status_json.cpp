#include "http/status_json.h"

#include <nlohmann/json.hpp>

#include "common/time_format.h"

namespace hdm {
namespace {

template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json TimeOrNull(const std::optional<SysTime>& t) {
  return t ? nlohmann::json(FormatRfc3339(*t)) : nlohmann::json(nullptr);
}

nlohmann::json ConnectionJson(const ConnectionState& s) {
  nlohmann::json j;
  j["id"] = s.info.id;
  j["name"] = s.info.name;
  j["source_type"] = s.info.source_type;
  j["tables"] = OrNull(s.table_count);
  j["synced_tables"] = OrNull(s.synced_table_count);
  j["healthy"] = OrNull(s.healthy);
  j["latency_seconds"] = OrNull(s.latency_seconds);
  j["last_answer"] = TimeOrNull(s.last_answer);
  j["answer_error"] =
      s.last_answer_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.last_answer_error);
  j["consecutive_failures"] = s.consecutive_failures;
  j["unhealthy_since"] = TimeOrNull(s.unhealthy_since);
  nlohmann::json check;
  if (s.checked) {
    check["success"] = s.check_success;
    check["duration_seconds"] = s.check_duration_seconds;
    check["at"] = FormatRfc3339(s.last_check);
    check["error"] = s.check_success ? nlohmann::json(nullptr) : nlohmann::json(s.last_check_error);
    check["code"] =
        s.check_success ? nlohmann::json(nullptr) : nlohmann::json(s.last_check_error_code);
  }
  j["last_check"] = s.checked ? check : nlohmann::json(nullptr);
  j["not_before"] = TimeOrNull(s.not_before);
  j["last_purge"] = TimeOrNull(s.last_purge);
  return j;
}

// The body is written member by member, each connection's and each table's JSON dumped on its
// own, so that 10,000 connections never make one document tree of them all: with one tree, 20
// requests at 10,000 connections left the daemon at 92-95 MB RSS (peak 110 MB) instead of 27 MB
// (peak 38 MB; tests/bench/status_api_memory.py, BENCHMARKS.md). The text is what dump(2) of the
// whole document gives: members in key order, two spaces of indent per level.
void AppendIndented(std::string& out, const nlohmann::json& value, int level) {
  // Names come from the API and may hold invalid UTF-8: replace rather than throw.
  const std::string text = value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string indent(static_cast<size_t>(2 * level), ' ');
  // A dump holds raw line breaks only between its members (strings escape theirs).
  for (const char ch : text) {
    out += ch;
    if (ch == '\n') out += indent;
  }
}

void AppendMember(std::string& out, const char* key, bool last,
                  const std::function<void(std::string&)>& value) {
  out += "  \"";
  out += key;
  out += "\": ";
  value(out);
  out += last ? "\n" : ",\n";
}

// An array at level 1 of `n` elements, element(i) each.
void AppendArray(std::string& out, size_t n, const std::function<nlohmann::json(size_t)>& element) {
  if (n == 0) {
    out += "[]";
    return;
  }
  out += "[\n";
  for (size_t i = 0; i < n; ++i) {
    out += "    ";
    AppendIndented(out, element(i), 2);
    out += i + 1 < n ? ",\n" : "\n";
  }
  out += "  ]";
}

}  // namespace

std::string RenderStatusJson(
    const FleetSnapshot& snapshot,
    const std::function<nlohmann::json(const std::string& connection_id)>& policies) {
  std::string out = "{\n";
  out.reserve(1024 + 900 * snapshot.connections.size() + 300 * snapshot.tables.size());
  // Members in the order dump() gives them: by key.
  AppendMember(out, "connections", false, [&](std::string& o) {
    AppendArray(o, snapshot.connections.size(), [&](size_t i) {
      const ConnectionState& c = snapshot.connections[i];
      nlohmann::json j = ConnectionJson(c);
      if (policies) j["policies"] = policies(c.info.id);
      return j;
    });
  });
  AppendMember(out, "discovery", false, [&](std::string& o) {
    AppendIndented(o,
                   {{"last_success", TimeOrNull(snapshot.last_discovery)},
                    {"last_error", snapshot.last_discovery_error.empty()
                                       ? nlohmann::json(nullptr)
                                       : nlohmann::json(snapshot.last_discovery_error)},
                    {"failures", snapshot.discoveries_failed}},
                   1);
  });
  AppendMember(out, "ready", false,
               [&](std::string& o) { o += snapshot.discovered ? "true" : "false"; });
  AppendMember(out, "rounds", false, [&](std::string& o) {
    AppendIndented(o,
                   {{"completed", snapshot.rounds_completed},
                    {"overrun", snapshot.rounds_overrun},
                    {"last_end", TimeOrNull(snapshot.last_round_end)},
                    {"last_duration_seconds", snapshot.last_round_duration_seconds}},
                   1);
  });
  AppendMember(out, "tables", false, [&](std::string& o) {
    AppendArray(o, snapshot.tables.size(), [&](size_t i) {
      const auto& t = snapshot.tables[i];
      return nlohmann::json{
          {"connection_id", t.connection_id},
          {"connection", t.connection_name},
          {"schema", t.schema},
          {"table", t.table},
          {"rows", OrNull(t.row_count)},
          {"synced_at", TimeOrNull(t.synced_at)},
          {"last_fetch",
           t.fetched ? nlohmann::json(FormatRfc3339(t.last_fetch)) : nlohmann::json(nullptr)},
          {"error", t.fetched && !t.ok ? nlohmann::json(t.last_error) : nlohmann::json(nullptr)}};
    });
  });
  AppendMember(out, "time", true,
               [&](std::string& o) { AppendIndented(o, FormatRfc3339(snapshot.taken), 1); });
  out += "}\n";
  return out;
}

}  // namespace hdm
