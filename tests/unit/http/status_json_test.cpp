// GET /api/v1/status's body (http/status_json.h): written member by member, it must read as the
// whole document's dump(2) would, for every shape of connection and table.
#include "http/status_json.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace hdm {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const SysTime kT0 = SysTime{} + 1'764'000'000s;

// The text that dump(2) of the parsed body gives: the layout of one document dumped whole.
std::string Canonical(const std::string& body) {
  return json::parse(body).dump(2, ' ', false) + "\n";
}

FleetSnapshot Fleet() {
  FleetSnapshot s;
  s.taken = kT0;
  s.discovered = true;
  s.rounds_completed = 7;
  s.last_round_end = kT0 - 2s;
  s.last_round_duration_seconds = 0.25;
  s.discoveries_failed = 1;
  s.last_discovery = kT0 - 10s;
  s.last_discovery_error = "503: \"busy\"\nretry";  // quotes and a line break, escaped

  ConnectionState healthy;
  healthy.info = {.id = "conn_pg", .name = "prod-pg", .source_type = "postgres"};
  healthy.table_count = 12;
  healthy.healthy = true;
  healthy.latency_seconds = 0.042;
  healthy.last_answer = kT0 - 1s;
  healthy.checked = true;
  healthy.check_success = true;
  healthy.last_check = kT0 - 1s;

  ConnectionState failing;
  failing.info = {.id = "conn_sf", .name = "bad \xff name", .source_type = "snowflake"};
  failing.healthy = false;
  failing.last_answer_error = "connection refused";
  failing.consecutive_failures = 3;
  failing.unhealthy_since = kT0 - 60s;
  failing.checked = true;
  failing.last_check = kT0;
  failing.last_check_error = "timeout after 5s";
  failing.last_check_error_code = "timeout";
  failing.last_purge = kT0 - 3600s;

  ConnectionState unchecked;
  unchecked.info = {.id = "conn_zz", .name = "new", .source_type = "mysql"};

  s.connections = {healthy, failing, unchecked};
  s.tables = {{.connection_id = "conn_pg",
               .connection_name = "prod-pg",
               .schema = "public",
               .table = "orders",
               .fetched = true,
               .ok = true,
               .row_count = 5,
               .synced_at = kT0 - 100s,
               .last_fetch = kT0 - 5s},
              {.connection_id = "conn_pg",
               .connection_name = "prod-pg",
               .schema = "public",
               .table = "users",
               .fetched = true,
               .last_fetch = kT0 - 5s,
               .last_error = "404"}};
  return s;
}

TEST(StatusJsonTest, ReadsAsTheWholeDocumentDumpedAtOnce) {
  const std::string body = RenderStatusJson(Fleet(), [](const std::string& id) {
    return json{{"purge-on-recovery", {{"last_fired", id == "conn_sf" ? json("x") : json()}}}};
  });
  EXPECT_EQ(body, Canonical(body));
  const json j = json::parse(body);
  ASSERT_EQ(j["connections"].size(), 3u);
  EXPECT_EQ(j["connections"][0]["id"], "conn_pg");
  EXPECT_EQ(j["connections"][0]["tables"], 12);
  EXPECT_EQ(j["connections"][0]["last_check"]["error"], nullptr);
  EXPECT_EQ(j["connections"][1]["name"], "bad \xef\xbf\xbd name");  // invalid UTF-8 replaced
  EXPECT_EQ(j["connections"][1]["last_check"]["code"], "timeout");
  EXPECT_EQ(j["connections"][1]["policies"]["purge-on-recovery"]["last_fired"], "x");
  EXPECT_EQ(j["connections"][2]["last_check"], nullptr);
  EXPECT_EQ(j["discovery"]["last_error"], "503: \"busy\"\nretry");
  EXPECT_EQ(j["discovery"]["failures"], 1);
  EXPECT_EQ(j["ready"], true);
  EXPECT_EQ(j["rounds"]["completed"], 7);
  ASSERT_EQ(j["tables"].size(), 2u);
  EXPECT_EQ(j["tables"][0]["rows"], 5);
  EXPECT_EQ(j["tables"][1]["error"], "404");
  EXPECT_EQ(j["time"], "2025-11-24T16:00:00Z");
}

TEST(StatusJsonTest, WithoutPoliciesConnectionsOrTables) {
  FleetSnapshot empty;
  empty.taken = kT0;
  const std::string body = RenderStatusJson(empty);
  EXPECT_EQ(body, Canonical(body));
  const json j = json::parse(body);
  EXPECT_EQ(j["connections"], json::array());
  EXPECT_EQ(j["tables"], json::array());
  EXPECT_EQ(j["ready"], false);
  EXPECT_EQ(j["discovery"]["last_success"], nullptr);

  const std::string no_policies = RenderStatusJson(Fleet());
  EXPECT_EQ(no_policies, Canonical(no_policies));
  EXPECT_FALSE(json::parse(no_policies)["connections"][0].contains("policies"));
}

}  // namespace
}  // namespace hdm
