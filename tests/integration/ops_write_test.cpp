// `hotdata-monitor connections create|delete` end to end against the fake API.
#include <nlohmann/json.hpp>

#include "integration/ops_test_support.h"

namespace hdm::testing {
namespace {

using nlohmann::json;

class OpsWriteTest : public OpsTest {};

TEST_F(OpsWriteTest, CreateFromYamlSendsTypedJsonAndPrintsDiscovery) {
  const std::string conn = dir_.Write("conn.yaml",
                                      "host: db.internal\n"
                                      "port: 5432\n"
                                      "ssl: true\n"
                                      "database: \"0042\"\n"
                                      "password: pw-not-echoed\n"
                                      "tables:\n"
                                      "  - { schema: public, table: a }\n"
                                      "  - { schema: public, table: b }\n");
  OpsRun r = Run("create --name new-pg --source-type postgres --config " + conn +
                 " --secret-name pg-secret");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "created new-pg (conn_")) << r.out;
  EXPECT_TRUE(Contains(r.out, "discovery:         success")) << r.out;
  EXPECT_TRUE(Contains(r.out, "tables discovered: 2")) << r.out;
  EXPECT_FALSE(Contains(r.out + r.err, "pw-not-echoed"));
  ASSERT_EQ(fake_.CountRequests("POST", "/v1/connections"), 1u);
  json sent;
  for (const auto& req : fake_.Requests()) {
    if (req.method == "POST") sent = json::parse(req.body);
  }
  EXPECT_EQ(sent["config"]["port"], 5432);
  EXPECT_EQ(sent["config"]["ssl"], true);
  EXPECT_EQ(sent["config"]["database"], "0042") << "quoted scalars stay strings";
  EXPECT_EQ(sent["secret_name"], "pg-secret");
  EXPECT_FALSE(sent.contains("secret_id"));
  EXPECT_EQ(sent["skip_discovery"], false);
}

TEST_F(OpsWriteTest, CreateFromJsonWithSkipDiscoveryAsJson) {
  const std::string conn = dir_.Write("conn.json", R"({"host": "h", "port": 1})");
  OpsRun r = Run("create --name n2 --source-type mysql --config " + conn +
                 " --secret-id sec_1 --skip-discovery --output json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["discovery_status"], "skipped");
  EXPECT_EQ(j["tables_discovered"], 0);
  EXPECT_EQ(j["name"], "n2");
}

TEST_F(OpsWriteTest, CreateErrorsAre400And409FromTheApi) {
  const std::string conn = dir_.Write("conn.json", R"({"host": "h"})");
  OpsRun r = Run("create --name prod-pg --source-type postgres --config " + conn);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(Contains(r.err, "HTTP 409 CONFLICT: Connection named 'prod-pg' already exists"))
      << r.err;
  fake_.Script("POST", "/v1/connections",
               {.status = 400,
                .body = R"({"error":{"code":"BAD_REQUEST","message":"unknown source_type"}})"});
  r = Run("create --name x --source-type nosuch --config " + conn);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(Contains(r.err, "HTTP 400 BAD_REQUEST: unknown source_type")) << r.err;
}

TEST_F(OpsWriteTest, CreateUsageErrorsExitTwoWithoutARequest) {
  const std::string conn = dir_.Write("conn.json", R"({"host": "h"})");
  const std::string bad = dir_.Write("bad.yaml", "host: [unclosed\n");
  const std::string txt = dir_.Write("conn.txt", "host=h\n");
  const std::string list = dir_.Write("list.json", "[1, 2]");
  EXPECT_EQ(Run("create --source-type pg --config " + conn).exit_code, 2);
  EXPECT_EQ(Run("create --name a --config " + conn).exit_code, 2);
  EXPECT_EQ(Run("create --name a --source-type pg").exit_code, 2);
  EXPECT_EQ(
      Run("create --name a --source-type pg --config " + conn + " --secret-id a --secret-name b")
          .exit_code,
      2);
  OpsRun r = Run("create --name a --source-type pg --config " + bad);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "bad.yaml:2:1:")) << r.err;
  EXPECT_EQ(Run("create --name a --source-type pg --config " + txt).exit_code, 2);
  EXPECT_EQ(Run("create --name a --source-type pg --config " + list).exit_code, 2);
  EXPECT_EQ(fake_.CountRequests("POST", "/v1/connections"), 0u);
}

TEST_F(OpsWriteTest, DeleteAsksAndOnlyYesDeletes) {
  OpsRun r = Run("delete prod-my", "n\n");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_TRUE(Contains(r.err, "Delete connection prod-my (c2, mysql)? This cannot be undone."))
      << r.err;
  EXPECT_TRUE(Contains(r.err, "not confirmed")) << r.err;
  EXPECT_EQ(Run("delete prod-my", "").exit_code, 4) << "end of input is no";
  EXPECT_TRUE(fake_.Get("c2").has_value());
  r = Run("delete prod-my", "yes\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "deleted prod-my (c2, mysql)")) << r.out;
  EXPECT_FALSE(fake_.Get("c2").has_value());
  r = Run("delete c1 --yes");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fake_.Get("c1").has_value());
}

TEST_F(OpsWriteTest, DeleteErrorsAre404And409AndAmbiguity) {
  fake::FakeConnection c = *fake_.Get("c1");
  c.backs_default_catalog = true;
  fake_.Upsert(c);
  OpsRun r = Run("delete c1 --yes");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(Contains(r.err, "HTTP 409 CONFLICT")) << r.err;
  fake_.Script("DELETE", "/v1/connections/c2",
               {.status = 404,
                .body = R"({"error":{"code":"NOT_FOUND","message":"Connection 'c2' not found"}})"});
  r = Run("delete c2 --yes");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_TRUE(Contains(r.err, "HTTP 404 NOT_FOUND: Connection 'c2' not found")) << r.err;
  r = Run("delete dup --yes");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(fake_.CountRequests("DELETE", "/v1/connections/c3"), 0u);
  EXPECT_EQ(fake_.CountRequests("DELETE", "/v1/connections/c4"), 0u);
}

}  // namespace
}  // namespace hdm::testing
