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

}  // namespace

std::string RenderStatusJson(
    const FleetSnapshot& snapshot,
    const std::function<nlohmann::json(const std::string& connection_id)>& policies) {
  nlohmann::json j;
  j["ready"] = snapshot.discovered;
  j["time"] = FormatRfc3339(snapshot.taken);
  j["discovery"] = {{"last_success", TimeOrNull(snapshot.last_discovery)},
                    {"last_error", snapshot.last_discovery_error.empty()
                                       ? nlohmann::json(nullptr)
                                       : nlohmann::json(snapshot.last_discovery_error)},
                    {"failures", snapshot.discoveries_failed}};
  j["rounds"] = {{"completed", snapshot.rounds_completed},
                 {"overrun", snapshot.rounds_overrun},
                 {"last_end", TimeOrNull(snapshot.last_round_end)},
                 {"last_duration_seconds", snapshot.last_round_duration_seconds}};
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : snapshot.connections) {
    list.push_back(ConnectionJson(c));
    if (policies) list.back()["policies"] = policies(c.info.id);
  }
  j["connections"] = std::move(list);
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : snapshot.tables) {
    tables.push_back(
        {{"connection_id", t.connection_id},
         {"connection", t.connection_name},
         {"schema", t.schema},
         {"table", t.table},
         {"rows", OrNull(t.row_count)},
         {"synced_at", TimeOrNull(t.synced_at)},
         {"last_fetch",
          t.fetched ? nlohmann::json(FormatRfc3339(t.last_fetch)) : nlohmann::json(nullptr)},
         {"error", t.fetched && !t.ok ? nlohmann::json(t.last_error) : nlohmann::json(nullptr)}});
  }
  j["tables"] = std::move(tables);
  // Names come from the API and may hold invalid UTF-8: replace rather than throw.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace hdm
