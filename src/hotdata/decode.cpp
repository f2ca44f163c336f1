#include "hotdata/decode.h"

#include "hotdata/json_reader.h"

namespace hdm::hotdata {

using detail::json;

namespace {

ConnectionInfo ReadConnectionInfo(const json& j, const std::string& path) {
  detail::ExpectObject(j, path);
  ConnectionInfo c;
  c.id = detail::RequireString(j, "id", path);
  c.name = detail::RequireString(j, "name", path);
  c.source_type = detail::RequireString(j, "source_type", path);
  return c;
}

}  // namespace

Decoded<std::vector<ConnectionInfo>> DecodeListConnections(std::string_view body) {
  return detail::DecodeBody<std::vector<ConnectionInfo>>(body, [](const json& root) {
    detail::ExpectObject(root, "");
    const json& list = detail::RequireArray(root, "connections", "");
    std::vector<ConnectionInfo> out;
    out.reserve(list.size());
    for (size_t i = 0; i < list.size(); ++i) {
      out.push_back(ReadConnectionInfo(list[i], detail::IndexPath("connections", i)));
    }
    return out;
  });
}

Decoded<ConnectionDetails> DecodeGetConnection(std::string_view body) {
  return detail::DecodeBody<ConnectionDetails>(body, [](const json& root) {
    detail::ExpectObject(root, "");
    ConnectionDetails d;
    d.id = detail::RequireString(root, "id", "");
    d.name = detail::RequireString(root, "name", "");
    d.source_type = detail::RequireString(root, "source_type", "");
    d.table_count = detail::RequireInt(root, "table_count", "");
    d.synced_table_count = detail::RequireInt(root, "synced_table_count", "");
    return d;
  });
}

Decoded<HealthResponse> DecodeHealth(std::string_view body) {
  return detail::DecodeBody<HealthResponse>(body, [](const json& root) {
    detail::ExpectObject(root, "");
    HealthResponse h;
    h.connection_id = detail::RequireString(root, "connection_id", "");
    h.healthy = detail::RequireBool(root, "healthy", "");
    h.latency_ms = detail::RequireNonNegativeInt(root, "latency_ms", "");
    h.error = detail::OptionalString(root, "error", "");
    return h;
  });
}

Decoded<CreateConnectionResponse> DecodeCreateConnection(std::string_view body) {
  return detail::DecodeBody<CreateConnectionResponse>(body, [](const json& root) {
    detail::ExpectObject(root, "");
    CreateConnectionResponse r;
    r.id = detail::RequireString(root, "id", "");
    r.name = detail::RequireString(root, "name", "");
    r.source_type = detail::RequireString(root, "source_type", "");
    r.tables_discovered = detail::RequireInt(root, "tables_discovered", "");
    // Any string: the API may add statuses beyond success, skipped and failed.
    r.discovery_status = detail::RequireString(root, "discovery_status", "");
    r.discovery_error = detail::OptionalString(root, "discovery_error", "");
    return r;
  });
}

Decoded<ApiErrorBody> DecodeErrorBody(std::string_view body) {
  return detail::DecodeBody<ApiErrorBody>(body, [](const json& root) {
    detail::ExpectObject(root, "");
    const json* error = detail::Find(root, "error");
    if (error == nullptr) detail::Fail("error", "missing");
    ApiErrorBody out;
    if (error->is_string()) {  // some gateways answer {"error": "..."}
      out.message = error->get<std::string>();
      return out;
    }
    detail::ExpectObject(*error, "error");
    out.code = detail::OptionalString(*error, "code", "error").value_or("");
    out.message = detail::OptionalString(*error, "message", "error").value_or("");
    if (out.code.empty() && out.message.empty()) detail::Fail("error", "no code or message");
    return out;
  });
}

std::string EncodeCreateConnection(const CreateConnectionRequest& req) {
  json body = json::object();
  body["name"] = req.name;
  body["source_type"] = req.source_type;
  body["config"] = req.config;
  if (req.secret_id) body["secret_id"] = *req.secret_id;
  if (req.secret_name) body["secret_name"] = *req.secret_name;
  body["skip_discovery"] = req.skip_discovery;
  // replace: a string that is not valid UTF-8 must not make dump() throw.
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace hdm::hotdata
