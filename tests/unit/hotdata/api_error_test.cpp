#include <gtest/gtest.h>

#include <set>

#include "hotdata/api.h"

namespace hdm::hotdata {
namespace {

ApiError Make(ErrorKind kind, int status = 0, std::string code = "", std::string message = "") {
  ApiError e;
  e.kind = kind;
  e.status = status;
  e.code = std::move(code);
  e.message = std::move(message);
  return e;
}

TEST(OperationNameTest, EveryOperationHasItsWireName) {
  const std::pair<Operation, std::string_view> table[] = {
      {Operation::kListConnections, "list_connections"},
      {Operation::kGetConnection, "get_connection"},
      {Operation::kCheckConnectionHealth, "check_connection_health"},
      {Operation::kCreateConnection, "create_connection"},
      {Operation::kDeleteConnection, "delete_connection"},
      {Operation::kPurgeConnectionCache, "purge_connection_cache"},
      {Operation::kPurgeTableCache, "purge_table_cache"},
      {Operation::kGetTableProfile, "get_table_profile"},
  };
  static_assert(std::size(table) == kOperationCount);
  std::set<std::string_view> names;
  for (const auto& [op, name] : table) {
    EXPECT_EQ(OperationName(op), name);
    names.insert(OperationName(op));
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(kOperationCount));
}

TEST(ApiErrorTest, MetricCodeByKind) {
  EXPECT_EQ(Make(ErrorKind::kHttpStatus, 404).MetricCode(), "404");
  EXPECT_EQ(Make(ErrorKind::kHttpStatus, 503).MetricCode(), "503");
  EXPECT_EQ(Make(ErrorKind::kTimeout).MetricCode(), "timeout");
  EXPECT_EQ(Make(ErrorKind::kConnection).MetricCode(), "connection_error");
  EXPECT_EQ(Make(ErrorKind::kInvalidResponse, 200).MetricCode(), "invalid_response");
  EXPECT_EQ(Make(ErrorKind::kCancelled).MetricCode(), "cancelled");
}

TEST(ApiErrorTest, ToStringOfHttpStatus) {
  EXPECT_EQ(Make(ErrorKind::kHttpStatus, 404, "NOT_FOUND", "Connection 'x' not found").ToString(),
            "HTTP 404 NOT_FOUND: Connection 'x' not found");
  EXPECT_EQ(Make(ErrorKind::kHttpStatus, 502, "", "<html>bad gateway</html>").ToString(),
            "HTTP 502: <html>bad gateway</html>");
  EXPECT_EQ(Make(ErrorKind::kHttpStatus, 503).ToString(), "HTTP 503");
  EXPECT_EQ(Make(ErrorKind::kHttpStatus, 409, "CONFLICT").ToString(), "HTTP 409 CONFLICT");
}

TEST(ApiErrorTest, ToStringOfTransportAndBodyErrors) {
  EXPECT_EQ(Make(ErrorKind::kTimeout, 0, "", "after 15s").ToString(), "timeout after 15s");
  EXPECT_EQ(Make(ErrorKind::kTimeout).ToString(), "timeout");
  EXPECT_EQ(Make(ErrorKind::kConnection, 0, "", "cannot connect to http://h:1").ToString(),
            "connection error: cannot connect to http://h:1");
  EXPECT_EQ(
      Make(ErrorKind::kInvalidResponse, 200, "", "connections[0].id: expected string, got null")
          .ToString(),
      "invalid response (HTTP 200): connections[0].id: expected string, got null");
  EXPECT_EQ(Make(ErrorKind::kInvalidResponse, 0, "", "body too large").ToString(),
            "invalid response: body too large");
  EXPECT_EQ(Make(ErrorKind::kCancelled).ToString(), "cancelled");
}

TEST(ApiErrorTest, OnlyBadRequestAndConflictArePermanent) {
  EXPECT_TRUE(Make(ErrorKind::kHttpStatus, 400).IsPermanent());
  EXPECT_TRUE(Make(ErrorKind::kHttpStatus, 409).IsPermanent());
  for (int status : {401, 403, 404, 429, 500, 502, 503, 504}) {
    EXPECT_FALSE(Make(ErrorKind::kHttpStatus, status).IsPermanent()) << status;
  }
  EXPECT_FALSE(Make(ErrorKind::kInvalidResponse, 400).IsPermanent());
  EXPECT_FALSE(Make(ErrorKind::kTimeout).IsPermanent());
}

}  // namespace
}  // namespace hdm::hotdata
