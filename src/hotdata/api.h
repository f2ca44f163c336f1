// HotdataApi: the monitor's view of the Hotdata connections API, and the seam where tests plug
// in fakes. Start here for anything that talks to Hotdata.
//
// Every call returns its value or an ApiError; none throws. An instance serves one thread at a
// time (the HTTP implementation holds one keep-alive connection): give each worker its own.
// Cancel() alone may be called from any thread.
#pragma once

#include <chrono>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "hotdata/types.h"

namespace hdm::hotdata {

enum class Operation {
  kListConnections,
  kGetConnection,
  kCheckConnectionHealth,
  kCreateConnection,
  kDeleteConnection,
  kPurgeConnectionCache,
  kPurgeTableCache,
  kGetTableProfile,
};
inline constexpr int kOperationCount = 8;
// The `operation` label value: "list_connections", "check_connection_health", ...
std::string_view OperationName(Operation op);

enum class ErrorKind {
  kTimeout,          // no answer within the per-attempt timeout or the call's deadline
  kConnection,       // connect/TLS/reset before any answer
  kHttpStatus,       // an answer with a non-success status (see status, code, message)
  kInvalidResponse,  // a success status whose body does not decode
  kCancelled,        // Cancel() was called
};

struct ApiError {
  ErrorKind kind = ErrorKind::kConnection;
  int status = 0;    // HTTP status for kHttpStatus (and kInvalidResponse), else 0
  std::string code;  // the API's error code ("NOT_FOUND") when the body had one
  // Human readable; never contains the token. ToString() puts it after a prefix of the kind:
  // "timeout <message>" (message like "after 15s"), "connection error: <message>",
  // "invalid response (HTTP 200): <field path: problem>", "cancelled[: <message>]".
  std::string message;
  // From a Retry-After header (429/503), 0 when none. Set also when the client gave up because
  // waiting that long would pass the call's deadline: do not ask again before it has passed.
  std::chrono::milliseconds retry_after{0};
  // Some byte of the request went out before the failure: the API may have acted on it (a
  // purge may have happened). False when it failed before sending (no connection, a name that
  // does not resolve, cancelled before the request was written). Always true for kHttpStatus
  // and kInvalidResponse.
  bool request_sent = false;

  // The `code` label of hotdata_api_requests_total: "404", "timeout", "connection_error",
  // "invalid_response", "cancelled".
  std::string MetricCode() const;
  // One line for logs and /api/v1/status, e.g. `HTTP 404 NOT_FOUND: Connection 'x' not found`.
  std::string ToString() const;
  // True for a 400 or 409: retrying the same request cannot succeed.
  bool IsPermanent() const {
    return kind == ErrorKind::kHttpStatus && (status == 400 || status == 409);
  }
};

template <typename T>
using ApiResult = std::expected<T, ApiError>;

struct Empty {};

// Options of one call. GETs are retried inside `deadline` as the config says; other calls never.
struct CallOptions {
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

class HotdataApi {
 public:
  virtual ~HotdataApi() = default;

  virtual ApiResult<std::vector<ConnectionInfo>> ListConnections(const CallOptions& opts = {}) = 0;
  virtual ApiResult<ConnectionDetails> GetConnection(const std::string& id,
                                                     const CallOptions& opts = {}) = 0;
  virtual ApiResult<HealthResponse> CheckHealth(const std::string& id,
                                                const CallOptions& opts = {}) = 0;
  virtual ApiResult<CreateConnectionResponse> CreateConnection(
      const CreateConnectionRequest& req) = 0;
  virtual ApiResult<Empty> DeleteConnection(const std::string& id) = 0;
  virtual ApiResult<Empty> PurgeConnectionCache(const std::string& id) = 0;
  virtual ApiResult<Empty> PurgeTableCache(const std::string& id, const std::string& schema,
                                           const std::string& table) = 0;
  virtual ApiResult<TableProfile> GetTableProfile(const std::string& id, const std::string& schema,
                                                  const std::string& table,
                                                  const CallOptions& opts = {}) = 0;

  // Aborts the call in flight (it returns kCancelled) and every later one. Thread-safe.
  virtual void Cancel() {}
};

// Receives one observation per HTTP request sent (each retry attempt is one request).
// Implementations must be thread-safe: every worker's client reports to the same observer.
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void OnRequest(Operation op, std::string_view metric_code, double seconds) = 0;
};

}  // namespace hdm::hotdata
