#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hotdata/decode.h"

namespace hdm::hotdata {
namespace {

using nlohmann::json;

const json kHealth = {
    {"connection_id", "c1"}, {"healthy", true}, {"latency_ms", 12}, {"error", nullptr}};
const json kDetails = {{"id", "c1"},
                       {"name", "prod-pg"},
                       {"source_type", "postgres"},
                       {"table_count", 12},
                       {"synced_table_count", 10}};
const json kCreated = {{"id", "c9"},
                       {"name", "new"},
                       {"source_type", "mysql"},
                       {"tables_discovered", 3},
                       {"discovery_status", "success"}};

std::string Without(json j, const std::string& key) {
  j.erase(key);
  return j.dump();
}
std::string With(json j, const std::string& key, json value) {
  j[key] = std::move(value);
  return j.dump();
}

TEST(DecodeListConnectionsTest, DecodesAndIgnoresUnknownFields) {
  auto r = DecodeListConnections(R"({"connections": [
      {"id": "a", "name": "prod-pg", "source_type": "postgres", "created_at": "x"},
      {"id": "b", "name": "wh", "source_type": "snowflake", "extra": {"nested": [1, 2]}}],
      "next_page": null})");
  ASSERT_TRUE(r) << r.error();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].id, "a");
  EXPECT_EQ((*r)[0].name, "prod-pg");
  EXPECT_EQ((*r)[1].source_type, "snowflake");
}

TEST(DecodeListConnectionsTest, EmptyListIsValid) {
  auto r = DecodeListConnections(R"({"connections": []})");
  ASSERT_TRUE(r) << r.error();
  EXPECT_TRUE(r->empty());
}

TEST(DecodeListConnectionsTest, ErrorsNameTheFieldPath) {
  const std::pair<std::string, std::string> table[] = {
      {R"({"connections": [{"id": null, "name": "n", "source_type": "s"}]})",
       "connections[0].id: expected string, got null"},
      {R"({"connections": [{"id": "a", "name": "n", "source_type": "s"}, {"id": "b", "name": "n"}]})",
       "connections[1].source_type: missing"},
      {R"({"connections": [{"id": "a", "name": 7, "source_type": "s"}]})",
       "connections[0].name: expected string, got integer 7"},
      {R"({"connections": [42]})", "connections[0]: expected object, got integer 42"},
      {R"({"connections": {}})", "connections: expected array, got object"},
      {R"({})", "connections: missing"},
      {R"([])", "body: expected object, got array"},
  };
  for (const auto& [body, message] : table) {
    auto r = DecodeListConnections(body);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error(), message) << body;
  }
}

TEST(DecodeGetConnectionTest, DecodesCounts) {
  auto r = DecodeGetConnection(With(kDetails, "future_field", true));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->id, "c1");
  EXPECT_EQ(r->source_type, "postgres");
  EXPECT_EQ(r->table_count, 12);
  EXPECT_EQ(r->synced_table_count, 10);
}

TEST(DecodeGetConnectionTest, EachRequiredFieldMissingIsAnError) {
  for (const char* key : {"id", "name", "source_type", "table_count", "synced_table_count"}) {
    auto r = DecodeGetConnection(Without(kDetails, key));
    ASSERT_FALSE(r) << key;
    EXPECT_EQ(r.error(), std::string(key) + ": missing");
  }
}

TEST(DecodeGetConnectionTest, CountsMustBeIntegers) {
  EXPECT_EQ(DecodeGetConnection(With(kDetails, "table_count", 1.5)).error(),
            "table_count: expected integer, got number 1.5");
  EXPECT_EQ(DecodeGetConnection(With(kDetails, "table_count", "12")).error(),
            "table_count: expected integer, got string");
  EXPECT_EQ(
      DecodeGetConnection(With(kDetails, "synced_table_count", 18446744073709551615ull)).error(),
      "synced_table_count: integer out of range");
}

TEST(DecodeHealthTest, HealthyWithNullError) {
  auto r = DecodeHealth(kHealth.dump());
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->connection_id, "c1");
  EXPECT_TRUE(r->healthy);
  EXPECT_EQ(r->latency_ms, 12);
  EXPECT_FALSE(r->error.has_value());
}

TEST(DecodeHealthTest, ErrorMayBeAbsentOrString) {
  auto absent = DecodeHealth(Without(kHealth, "error"));
  ASSERT_TRUE(absent) << absent.error();
  EXPECT_FALSE(absent->error.has_value());

  json down = kHealth;
  down["healthy"] = false;
  down["error"] = "connection refused";
  auto r = DecodeHealth(down.dump());
  ASSERT_TRUE(r) << r.error();
  EXPECT_FALSE(r->healthy);
  EXPECT_EQ(r->error, "connection refused");
}

TEST(DecodeHealthTest, EachRequiredFieldMissingIsAnError) {
  for (const char* key : {"connection_id", "healthy", "latency_ms"}) {
    auto r = DecodeHealth(Without(kHealth, key));
    ASSERT_FALSE(r) << key;
    EXPECT_EQ(r.error(), std::string(key) + ": missing");
  }
}

TEST(DecodeHealthTest, WrongTypesAreErrors) {
  EXPECT_EQ(DecodeHealth(With(kHealth, "healthy", "true")).error(),
            "healthy: expected boolean, got string");
  EXPECT_EQ(DecodeHealth(With(kHealth, "healthy", 1)).error(),
            "healthy: expected boolean, got integer 1");
  EXPECT_EQ(DecodeHealth(With(kHealth, "latency_ms", nullptr)).error(),
            "latency_ms: expected integer, got null");
  EXPECT_EQ(DecodeHealth(With(kHealth, "error", 5)).error(),
            "error: expected string or null, got integer 5");
  EXPECT_EQ(DecodeHealth(With(kHealth, "connection_id", json::array())).error(),
            "connection_id: expected string, got array");
}

TEST(DecodeHealthTest, LatencyMustBeNonNegative) {
  EXPECT_EQ(DecodeHealth(With(kHealth, "latency_ms", -1)).error(),
            "latency_ms: expected non-negative integer, got -1");
  EXPECT_TRUE(DecodeHealth(With(kHealth, "latency_ms", 0)));
}

TEST(DecodeHealthTest, BodiesThatAreNotJsonAreErrors) {
  const std::string truncated = kHealth.dump().substr(0, 25);
  for (const std::string& body : {truncated, std::string("<html>502 Bad Gateway</html>"),
                                  std::string("{\"healthy\": tru}"), std::string("{} trailing")}) {
    auto r = DecodeHealth(body);
    ASSERT_FALSE(r) << body;
    EXPECT_TRUE(r.error().starts_with("body: not valid JSON: ")) << r.error();
  }
  EXPECT_EQ(DecodeHealth("").error(), "body: empty");
  EXPECT_EQ(DecodeHealth(" \r\n").error(), "body: empty");
  EXPECT_EQ(DecodeHealth("null").error(), "body: expected object, got null");
}

TEST(DecodeHealthTest, DeepOrHugeInputIsAnErrorNotACrash) {
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  auto r = DecodeHealth(deep);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "body: JSON nested deeper than 64");

  // Brackets inside strings do not count as nesting.
  json ok = kHealth;
  ok["error"] = std::string(1000, '[');
  EXPECT_TRUE(DecodeHealth(ok.dump()));

  json huge = kHealth;
  huge["padding"] = std::string(2 << 20, 'x');
  EXPECT_TRUE(DecodeHealth(huge.dump()));
  EXPECT_FALSE(DecodeHealth(std::string(1 << 20, '{')));
}

TEST(DecodeHealthTest, InvalidUtf8InTheBodyGivesAPrintableMessage) {
  auto r = DecodeHealth("{\"connection_id\": \"\xff\xfe\"}");
  ASSERT_FALSE(r);
  for (char c : r.error()) EXPECT_TRUE(c >= 0x20 && c < 0x7F) << r.error();
}

TEST(DecodeCreateConnectionTest, DecodesWithAndWithoutDiscoveryError) {
  auto r = DecodeCreateConnection(kCreated.dump());
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->id, "c9");
  EXPECT_EQ(r->tables_discovered, 3);
  EXPECT_EQ(r->discovery_status, "success");
  EXPECT_FALSE(r->discovery_error);

  json failed = kCreated;
  failed["discovery_status"] = "failed";
  failed["discovery_error"] = "permission denied";
  auto f = DecodeCreateConnection(failed.dump());
  ASSERT_TRUE(f) << f.error();
  EXPECT_EQ(f->discovery_error, "permission denied");
}

TEST(DecodeCreateConnectionTest, EachRequiredFieldMissingIsAnError) {
  for (const char* key : {"id", "name", "source_type", "tables_discovered", "discovery_status"}) {
    auto r = DecodeCreateConnection(Without(kCreated, key));
    ASSERT_FALSE(r) << key;
    EXPECT_EQ(r.error(), std::string(key) + ": missing");
  }
}

TEST(DecodeErrorBodyTest, DecodesTheApiShape) {
  auto r = DecodeErrorBody(
      R"({"error": {"code": "NOT_FOUND", "message": "Connection 'x' not found", "id": 1}})");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->code, "NOT_FOUND");
  EXPECT_EQ(r->message, "Connection 'x' not found");

  auto plain = DecodeErrorBody(R"({"error": "upstream timed out"})");
  ASSERT_TRUE(plain) << plain.error();
  EXPECT_EQ(plain->code, "");
  EXPECT_EQ(plain->message, "upstream timed out");
}

TEST(DecodeErrorBodyTest, OtherShapesAreErrors) {
  EXPECT_FALSE(DecodeErrorBody("<html><body>Bad Gateway</body></html>"));
  EXPECT_FALSE(DecodeErrorBody(""));
  EXPECT_FALSE(DecodeErrorBody(R"({"message": "x"})"));
  EXPECT_FALSE(DecodeErrorBody(R"({"error": {}})"));
  EXPECT_FALSE(DecodeErrorBody(R"({"error": 5})"));
}

TEST(EncodeCreateConnectionTest, WritesTheWireModel) {
  CreateConnectionRequest req;
  req.name = "prod-pg";
  req.source_type = "postgres";
  req.config = {{"host", "db"}, {"port", 5432}};
  req.secret_name = "pg-secret";
  const json body = json::parse(EncodeCreateConnection(req));
  EXPECT_EQ(body["name"], "prod-pg");
  EXPECT_EQ(body["source_type"], "postgres");
  EXPECT_EQ(body["config"]["port"], 5432);
  EXPECT_EQ(body["secret_name"], "pg-secret");
  EXPECT_FALSE(body.contains("secret_id"));
  EXPECT_EQ(body["skip_discovery"], false);
}

TEST(EncodeCreateConnectionTest, InvalidUtf8DoesNotThrow) {
  CreateConnectionRequest req;
  req.name = "bad\xff";
  std::string body;
  EXPECT_NO_THROW(body = EncodeCreateConnection(req));
  EXPECT_TRUE(json::accept(body));
}

}  // namespace
}  // namespace hdm::hotdata
