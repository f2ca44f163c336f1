// `hotdata-monitor connections list|get|health|profile` end to end against the fake API.
#include <nlohmann/json.hpp>

#include "integration/ops_test_support.h"

namespace hdm::testing {
namespace {

using nlohmann::json;

class OpsReadTest : public OpsTest {};

TEST_F(OpsReadTest, ListPrintsATableWithTableCounts) {
  OpsRun r = Run("list");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "ID  NAME     SOURCE     TABLES  SYNCED")) << r.out;
  EXPECT_TRUE(Contains(r.out, "c1  prod-pg  postgres   3       2")) << r.out;
  EXPECT_TRUE(Contains(r.out, "4 connections")) << r.out;
  EXPECT_EQ(r.out.find("\033["), std::string::npos) << "no colour when stdout is not a tty";
}

TEST_F(OpsReadTest, ListAsJson) {
  OpsRun r = Run("list --output json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j["connections"].size(), 4u);
  EXPECT_EQ(j["connections"][0], (json{{"id", "c1"},
                                       {"name", "prod-pg"},
                                       {"source_type", "postgres"},
                                       {"table_count", 3},
                                       {"synced_table_count", 2}}));
}

TEST_F(OpsReadTest, ListFailuresPrintTheApiCodeAndExitThree) {
  fake_.Script(
      "GET", "/v1/connections",
      {.status = 500, .body = R"({"error":{"code":"INTERNAL_SERVER_ERROR","message":"db down"}})"});
  OpsRun r = Run("list");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(Contains(r.err, "HTTP 500 INTERNAL_SERVER_ERROR: db down")) << r.err;
  fake_.ClearScripts();
  fake_.Script("GET", "/v1/connections/c2", {.status = 404, .body = "not json"});
  r = Run("list");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(Contains(r.out, "c2  prod-my  mysql      ?")) << r.out;
  EXPECT_TRUE(Contains(r.err, "get connection c2: HTTP 404")) << r.err;
}

TEST_F(OpsReadTest, GetResolvesANameOrAnId) {
  OpsRun r = Run("get prod-pg");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "id:             c1")) << r.out;
  EXPECT_TRUE(Contains(r.out, "tables:         3")) << r.out;
  r = Run("get c2 --output json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["name"], "prod-my");
}

TEST_F(OpsReadTest, AnAmbiguousNameListsTheCandidatesAndExitsTwo) {
  OpsRun r = Run("get dup");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "\"dup\" is ambiguous")) << r.err;
  EXPECT_TRUE(Contains(r.err, "c3  dup  snowflake")) << r.err;
  EXPECT_TRUE(Contains(r.err, "c4  dup  bigquery")) << r.err;
  EXPECT_EQ(Run("get c4").exit_code, 0) << "the id always works";
}

TEST_F(OpsReadTest, UnknownConnectionAndApiErrorsExitThree) {
  OpsRun r = Run("get nope");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(Contains(r.err, "no connection with id or name \"nope\"")) << r.err;
  // Deleted between the list and the get: the API's own 404.
  fake_.Script("GET", "/v1/connections/c1",
               {.status = 404,
                .body = R"({"error":{"code":"NOT_FOUND","message":"Connection 'c1' not found"}})"});
  r = Run("get c1");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(Contains(r.err, "HTTP 404 NOT_FOUND: Connection 'c1' not found")) << r.err;
}

TEST_F(OpsReadTest, UnauthorizedAnd429AndGatewayErrorsAreReported) {
  for (const auto& [status, code] :
       std::vector<std::pair<int, std::string>>{{401, "UNAUTHORIZED"},
                                                {429, "TOO_MANY_REQUESTS"},
                                                {502, "BAD_GATEWAY"},
                                                {503, "SERVICE_UNAVAILABLE"}}) {
    fake_.ClearScripts();
    fake_.Script(
        "GET", "/v1/connections",
        {.status = status,
         .body =
             json{{"error", {{"code", code}, {"message", "echo " + std::string(kToken)}}}}.dump()});
    OpsRun r = Run("get c1");
    EXPECT_EQ(r.exit_code, 3) << status;
    EXPECT_TRUE(Contains(r.err, "HTTP " + std::to_string(status) + " " + code)) << r.err;
  }
}

TEST_F(OpsReadTest, AWrongTokenGets401) {
  fake::FakeHotdataServer strict({.expected_token = "another-token"});
  ASSERT_GT(strict.Start(), 0);
  config_ = dir_.Write("strict.yaml", TestConfig(strict.base_url(), token_));
  OpsRun r = Run("list");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(Contains(r.err, "HTTP 401 UNAUTHORIZED: Missing or invalid bearer token")) << r.err;
}

TEST_F(OpsReadTest, HealthOfAllExitsOneWhenOneIsUnhealthy) {
  OpsRun r = Run("health");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(Contains(r.out, "UNHEALTHY")) << r.out;
  EXPECT_TRUE(Contains(r.out, "4 connections checked in")) << r.out;
  r = Run("health prod-pg c2");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "7ms")) << r.out;
  EXPECT_FALSE(Contains(r.out, "dup")) << r.out;
}

TEST_F(OpsReadTest, HealthWithoutAValidAnswerExitsThreeAndJsonSaysSo) {
  fake_.Script("GET", "/v1/connections/c1/health", {.status = 200, .body = "{\"healthy\":"});
  OpsRun r = Run("health c1 c2 --output json");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["connections"][0]["status"], "no_answer");
  EXPECT_TRUE(j["connections"][0]["healthy"].is_null());
  EXPECT_EQ(j["connections"][1]["status"], "healthy");
  EXPECT_EQ(j["connections"][1]["latency_ms"], 7);
  r = Run("health c3 --output json");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(json::parse(r.out)["connections"][0]["error"], "no");
}

TEST_F(OpsReadTest, ProfileShowsRowsSyncAndColumnStatistics) {
  fake::FakeConnection c = *fake_.Get("c1");
  c.tables.push_back({.schema = "eu.sales",
                      .table = "Order Items",
                      .row_count = 1234,
                      .synced_at = "2026-01-02T03:04:05Z",
                      .columns = json::parse(R"([
         {"name":"status","data_type":"Utf8","cardinality":2,"null_count":1,"null_percentage":0.5,
          "profile":{"type":"categorical","values":[{"value":"paid","count":9},{"value":null,"count":1}]}},
         {"name":"amount","data_type":"Float64","cardinality":90,"null_count":0,"null_percentage":0,
          "profile":{"type":"numeric","min":"0.5","max":"99.5","mean":12.25}},
         {"name":"empty","data_type":"Utf8","cardinality":0,"null_count":1234,"null_percentage":100,
          "profile":null}])")});
  fake_.Upsert(c);
  OpsRun r = Run("profile prod-pg 'eu.sales.Order Items'");
  ASSERT_EQ(r.exit_code, 3) << "split at the first dot: schema eu, table 'sales.Order Items'";
  EXPECT_TRUE(Contains(r.err, "HTTP 404 NOT_FOUND")) << r.err;

  c.tables.back().schema = "sales";
  fake_.Upsert(c);
  r = Run("profile prod-pg 'sales.Order Items'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "rows:       1234")) << r.out;
  EXPECT_TRUE(Contains(r.out, "synced at:  2026-01-02T03:04:05Z")) << r.out;
  EXPECT_TRUE(Contains(r.out, "top: paid (9), (null) (1)")) << r.out;
  EXPECT_TRUE(Contains(r.out, "min 0.5, max 99.5, mean 12.25")) << r.out;
  EXPECT_TRUE(Contains(r.out, "1234 (100%)")) << r.out;

  r = Run("profile c1 'sales.Order Items' --output json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["row_count"], 1234);
  EXPECT_EQ(j["columns"][1]["profile"]["mean"], 12.25);
  EXPECT_TRUE(j["columns"][2]["profile"].is_null());
}

TEST_F(OpsReadTest, ProfileOfAnUnprofiledTableIsTheApis404) {
  fake::FakeConnection c = *fake_.Get("c1");
  c.tables.push_back({.schema = "public", .table = "fresh", .has_profile = false});
  fake_.Upsert(c);
  OpsRun r = Run("profile c1 public.fresh");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(Contains(r.err, "HTTP 404 NOT_FOUND: Profile for table")) << r.err;
}

TEST_F(OpsReadTest, UsageAndConfigErrorsExitTwo) {
  EXPECT_EQ(Run("").exit_code, 2);
  EXPECT_EQ(Run("frobnicate").exit_code, 2);
  EXPECT_EQ(Run("get").exit_code, 2);
  EXPECT_EQ(Run("list --yes").exit_code, 2);
  EXPECT_EQ(Run("profile c1 nodot").exit_code, 2);
  EXPECT_EQ(Run("list --output yaml").exit_code, 2);
  OpsRun help = Run("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(Contains(help.out, "purge ID|NAME")) << help.out;
  config_ = dir_.Write("bad.yaml", "api:\n  base_url: http://x\n  tokenfile: /x\n");
  OpsRun r = Run("list");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "bad.yaml:3:3: api.tokenfile")) << r.err;
}

}  // namespace
}  // namespace hdm::testing
