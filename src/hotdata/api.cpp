#include "hotdata/api.h"

#include <string>

namespace hdm::hotdata {

std::string_view OperationName(Operation op) {
  switch (op) {
    case Operation::kListConnections:
      return "list_connections";
    case Operation::kGetConnection:
      return "get_connection";
    case Operation::kCheckConnectionHealth:
      return "check_connection_health";
    case Operation::kCreateConnection:
      return "create_connection";
    case Operation::kDeleteConnection:
      return "delete_connection";
    case Operation::kPurgeConnectionCache:
      return "purge_connection_cache";
    case Operation::kPurgeTableCache:
      return "purge_table_cache";
    case Operation::kGetTableProfile:
      return "get_table_profile";
  }
  return "unknown";
}

std::string ApiError::MetricCode() const {
  switch (kind) {
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kConnection:
      return "connection_error";
    case ErrorKind::kHttpStatus:
      return std::to_string(status);
    case ErrorKind::kInvalidResponse:
      return "invalid_response";
    case ErrorKind::kCancelled:
      return "cancelled";
  }
  return "connection_error";
}

namespace {

// `head` followed by `sep` and `tail` when there is a tail.
std::string Join(std::string head, std::string_view sep, const std::string& tail) {
  if (!tail.empty()) {
    head += sep;
    head += tail;
  }
  return head;
}

}  // namespace

std::string ApiError::ToString() const {
  switch (kind) {
    case ErrorKind::kTimeout:
      return Join("timeout", " ", message);
    case ErrorKind::kConnection:
      return Join("connection error", ": ", message);
    case ErrorKind::kHttpStatus:
      return Join(Join("HTTP " + std::to_string(status), " ", code), ": ", message);
    case ErrorKind::kInvalidResponse: {
      std::string head = "invalid response";
      if (status != 0) head += " (HTTP " + std::to_string(status) + ")";
      return Join(std::move(head), ": ", message);
    }
    case ErrorKind::kCancelled:
      return Join("cancelled", ": ", message);
  }
  return message;
}

}  // namespace hdm::hotdata
