// The answers of the fake Hotdata API, apart from the HTTP server that sends them: parsing a raw
// request path into one of the eight operations, and computing the answer from the workspace.
// Not thread-safe: FakeHotdataServer calls Serve() with its mutex held.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fakes/fake_hotdata.h"

namespace hdm::fake::internal {

enum class Op {
  kListConnections,
  kGetConnection,
  kCheckHealth,
  kCreateConnection,
  kDeleteConnection,
  kPurgeConnectionCache,
  kPurgeTableCache,
  kGetTableProfile,
  kUnknown,
};

// One request's operation with its path parameters, percent-decoded segment by segment.
struct Route {
  Op op = Op::kUnknown;
  std::string connection_id;
  std::string schema;
  std::string table;
};

// status and body as sent; a null body sends no content (204).
struct Answer {
  int status = 200;
  nlohmann::json body;
};

struct Workspace {
  std::map<std::string, FakeConnection> connections;  // by id: the list answer's order
  int next_id = 1;                                    // for created connections
};

// Decodes %XX escapes of one path segment; a malformed escape stays as it is.
std::string DecodeSegment(std::string_view segment);

// `raw_path` is the request target as sent, without the query.
Route ParseRoute(const std::string& method, const std::string& raw_path);

// The `{"error": {"code": ..., "message": ...}}` body of the API page.
Answer ErrorAnswer(int status, const std::string& code, const std::string& message);

// The documented answer of `route` (kUnknown: 404). May change the workspace (create, delete).
Answer Serve(Workspace& workspace, const Route& route, const std::string& method,
             const std::string& body);

}  // namespace hdm::fake::internal
