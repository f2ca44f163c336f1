#include "fakes/fake_routes.h"

#include <cstdio>
#include <vector>

namespace hdm::fake::internal {
namespace {

using nlohmann::json;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<std::string> SplitRaw(const std::string& raw_path) {
  std::vector<std::string> segments;
  if (raw_path.empty() || raw_path[0] != '/') return segments;
  size_t start = 1;
  while (true) {
    size_t slash = raw_path.find('/', start);
    segments.push_back(raw_path.substr(start, slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return segments;
}

Answer NotFound(const std::string& id) {
  return ErrorAnswer(404, "NOT_FOUND", "Connection '" + id + "' not found");
}

Answer BadRequest(const std::string& message) { return ErrorAnswer(400, "BAD_REQUEST", message); }

const FakeTable* FindTable(const FakeConnection& c, const Route& route) {
  for (const FakeTable& t : c.tables) {
    if (t.schema == route.schema && t.table == route.table) return &t;
  }
  return nullptr;
}

json Health(const FakeConnection& c) {
  json error = c.error ? json(*c.error) : json(nullptr);
  return {{"connection_id", c.id},
          {"healthy", c.healthy},
          {"latency_ms", c.latency_ms},
          {"error", error}};
}

json Profile(const FakeConnection& c, const FakeTable& t) {
  json body = {{"connection", c.name},
               {"schema", t.schema},
               {"table", t.table},
               {"row_count", t.row_count},
               {"columns", t.columns}};
  if (t.synced_at) body["synced_at"] = *t.synced_at;
  return body;
}

std::string NewId(Workspace& ws) {
  while (true) {
    char id[32];
    std::snprintf(id, sizeof id, "conn_%04d", ws.next_id++);
    if (!ws.connections.contains(id)) return id;
  }
}

Answer Create(Workspace& ws, const std::string& body) {
  json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) return BadRequest("Request body is not valid JSON");
  if (!request.is_object()) return BadRequest("Request body must be a JSON object");
  for (const char* field : {"name", "source_type"}) {
    auto it = request.find(field);
    if (it == request.end() || !it->is_string() || it->get<std::string>().empty()) {
      return BadRequest(std::string("Field '") + field + "' is required");
    }
  }
  auto config = request.find("config");
  if (config == request.end() || !config->is_object()) {
    return BadRequest("Field 'config' is required and must be an object");
  }
  if (request.contains("secret_id") && request.contains("secret_name")) {
    return BadRequest("secret_id and secret_name are mutually exclusive");
  }
  bool skip = false;
  if (auto it = request.find("skip_discovery"); it != request.end()) {
    if (!it->is_boolean()) return BadRequest("Field 'skip_discovery' must be a boolean");
    skip = it->get<bool>();
  }
  const std::string name = request["name"].get<std::string>();
  for (const auto& [id, c] : ws.connections) {
    if (c.name == name) {
      return ErrorAnswer(409, "CONFLICT", "Connection named '" + name + "' already exists");
    }
  }
  FakeConnection c;
  c.id = NewId(ws);
  c.name = name;
  c.source_type = request["source_type"].get<std::string>();
  // Discovery finds the tables listed as {"schema": ..., "table": ...} in config.tables.
  auto tables = config->find("tables");
  if (!skip && tables != config->end() && tables->is_array()) {
    for (const json& t : *tables) {
      if (t.is_object() && t.value("schema", json()).is_string() &&
          t.value("table", json()).is_string()) {
        FakeTable table;
        table.schema = t["schema"];
        table.table = t["table"];
        table.has_profile = false;  // not profiled yet
        c.tables.push_back(std::move(table));
      }
    }
  }
  c.table_count = static_cast<int64_t>(c.tables.size());
  json answer = {{"id", c.id},
                 {"name", c.name},
                 {"source_type", c.source_type},
                 {"tables_discovered", c.table_count},
                 {"discovery_status", skip ? "skipped" : "success"}};
  ws.connections[c.id] = std::move(c);
  return {201, std::move(answer)};
}

}  // namespace

std::string DecodeSegment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '%' && i + 2 < segment.size()) {
      int hi = HexValue(segment[i + 1]);
      int lo = HexValue(segment[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(segment[i]);
  }
  return out;
}

Route ParseRoute(const std::string& method, const std::string& raw_path) {
  std::vector<std::string> s = SplitRaw(raw_path);
  Route route;
  if (s.size() < 2 || s[0] != "v1" || s[1] != "connections") return route;
  for (size_t i = 2; i < s.size(); ++i) {
    if (s[i].empty()) return route;  // "//" or a trailing slash: no such route
  }
  if (s.size() > 2) route.connection_id = DecodeSegment(s[2]);
  const bool get = method == "GET";
  const bool del = method == "DELETE";
  if (s.size() == 2) {
    if (get) route.op = Op::kListConnections;
    if (method == "POST") route.op = Op::kCreateConnection;
  } else if (s.size() == 3) {
    if (get) route.op = Op::kGetConnection;
    if (del) route.op = Op::kDeleteConnection;
  } else if (s.size() == 4) {
    if (get && s[3] == "health") route.op = Op::kCheckHealth;
    if (del && s[3] == "cache") route.op = Op::kPurgeConnectionCache;
  } else if (s.size() == 7 && s[3] == "tables") {
    route.schema = DecodeSegment(s[4]);
    route.table = DecodeSegment(s[5]);
    if (del && s[6] == "cache") route.op = Op::kPurgeTableCache;
    if (get && s[6] == "profile") route.op = Op::kGetTableProfile;
  }
  return route;
}

Answer ErrorAnswer(int status, const std::string& code, const std::string& message) {
  return {status, json{{"error", {{"code", code}, {"message", message}}}}};
}

Answer Serve(Workspace& ws, const Route& route, const std::string& method,
             const std::string& body) {
  if (route.op == Op::kUnknown) {
    return ErrorAnswer(404, "NOT_FOUND", "No such operation: " + method + " on this path");
  }
  if (route.op == Op::kListConnections) {
    json list = json::array();
    for (const auto& [id, c] : ws.connections) {
      list.push_back({{"id", c.id}, {"name", c.name}, {"source_type", c.source_type}});
    }
    return {200, json{{"connections", std::move(list)}}};
  }
  if (route.op == Op::kCreateConnection) return Create(ws, body);

  auto it = ws.connections.find(route.connection_id);
  if (it == ws.connections.end()) return NotFound(route.connection_id);
  const FakeConnection& c = it->second;
  const std::string table_name = route.schema + "." + route.table;
  switch (route.op) {
    case Op::kGetConnection:
      return {200, json{{"id", c.id},
                        {"name", c.name},
                        {"source_type", c.source_type},
                        {"table_count", c.table_count},
                        {"synced_table_count", c.synced_table_count}}};
    case Op::kCheckHealth:
      return {200, Health(c)};
    case Op::kDeleteConnection:
      if (c.backs_default_catalog) {
        return ErrorAnswer(409, "CONFLICT",
                           "Connection '" + c.id + "' backs a database's default catalog");
      }
      ws.connections.erase(it);
      return {204, nullptr};
    case Op::kPurgeConnectionCache:
      if (c.source_type == "managed") {
        return BadRequest("managed catalogs cannot be purged");
      }
      if (c.backs_default_catalog) {
        return ErrorAnswer(409, "CONFLICT",
                           "Connection '" + c.id + "' backs a database's default catalog");
      }
      return {204, nullptr};
    case Op::kPurgeTableCache:
      if (!FindTable(c, route)) {
        return ErrorAnswer(404, "NOT_FOUND", "Table '" + table_name + "' not found");
      }
      return {204, nullptr};
    case Op::kGetTableProfile: {
      const FakeTable* t = FindTable(c, route);
      if (!t) return ErrorAnswer(404, "NOT_FOUND", "Table '" + table_name + "' not found");
      if (!t->has_profile) {
        return ErrorAnswer(404, "NOT_FOUND", "Profile for table '" + table_name + "' not found");
      }
      return {200, Profile(c, *t)};
    }
    default:
      return ErrorAnswer(404, "NOT_FOUND", "No route");
  }
}

}  // namespace hdm::fake::internal
