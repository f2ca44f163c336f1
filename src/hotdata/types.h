// Wire types of the Hotdata connections API, field for field as on the wire
// (../shared/spec/hotdata-api.md). Decoding lives in decode.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace hdm::hotdata {

struct ConnectionInfo {
  std::string id;
  std::string name;
  std::string source_type;
};

struct ConnectionDetails {  // GetConnectionResponse
  std::string id;
  std::string name;
  std::string source_type;
  int64_t table_count = 0;
  int64_t synced_table_count = 0;
};

struct HealthResponse {  // ConnectionHealthResponse
  std::string connection_id;
  bool healthy = false;
  int64_t latency_ms = 0;
  std::optional<std::string> error;  // null or absent: nullopt
};

struct CreateConnectionRequest {
  std::string name;
  std::string source_type;
  nlohmann::json config = nlohmann::json::object();
  std::optional<std::string> secret_id;  // mutually exclusive with secret_name
  std::optional<std::string> secret_name;
  bool skip_discovery = false;
};

struct CreateConnectionResponse {
  std::string id;
  std::string name;
  std::string source_type;
  int64_t tables_discovered = 0;
  std::string discovery_status;  // success | skipped | failed
  std::optional<std::string> discovery_error;
};

struct CategoricalValue {
  std::optional<std::string> value;
  int64_t count = 0;
};
struct CategoricalProfile {
  std::vector<CategoricalValue> values;
};
struct TextProfile {
  int64_t min_length = 0;
  int64_t max_length = 0;
  double avg_length = 0;
};
struct NumericProfile {
  std::string min;  // strings on the wire, for precision
  std::string max;
  double mean = 0;
};
struct TemporalProfile {
  std::string min;
  std::string max;
};
struct BooleanProfile {
  int64_t true_count = 0;
  int64_t false_count = 0;
};
// A profile whose `type` this client does not know yet (the API grows): kept by name only.
struct UnknownProfile {
  std::string type;
};
using ColumnStats = std::variant<CategoricalProfile, TextProfile, NumericProfile, TemporalProfile,
                                 BooleanProfile, UnknownProfile>;

struct ColumnProfile {
  std::string name;
  std::string data_type;
  int64_t cardinality = 0;
  int64_t null_count = 0;
  double null_percentage = 0;
  std::optional<ColumnStats> profile;  // null when all-null or unsupported
};

struct TableProfile {  // TableProfileResponse
  std::string connection;
  std::string schema;
  std::string table;
  int64_t row_count = 0;
  std::optional<std::string> synced_at;  // RFC 3339
  std::vector<ColumnProfile> columns;
};

}  // namespace hdm::hotdata
