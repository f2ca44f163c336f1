// The fake Hotdata API follows ../shared/spec/hotdata-api.md: every operation's answer and
// documented errors, percent-encoded path segments, scripts, recording, token and TLS.
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "fakes/fake_hotdata.h"

namespace hdm::fake {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

json ErrorBody(const std::string& code, const std::string& message) {
  return {{"error", {{"code", code}, {"message", message}}}};
}

json Body(const httplib::Result& res) { return json::parse(res->body); }

int Status(const httplib::Result& res) { return res ? res->status : -1; }

// The answer has `status` and exactly the API's error body.
void ExpectError(const httplib::Result& res, int status, const std::string& code,
                 const std::string& message) {
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, status);
  EXPECT_EQ(Body(res), ErrorBody(code, message));
}

FakeTable Table(std::string schema, std::string table) {
  FakeTable t;
  t.schema = std::move(schema);
  t.table = std::move(table);
  t.row_count = 42;
  t.synced_at = "2025-01-02T03:04:05Z";
  t.columns = json::array({{{"name", "id"},
                            {"data_type", "Int64"},
                            {"cardinality", 42},
                            {"null_count", 0},
                            {"null_percentage", 0.0},
                            {"profile", nullptr}}});
  return t;
}

ScriptedResponse Scripted(int status, std::string body) {
  ScriptedResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

FakeConnection Connection(std::string id, std::string name, std::string source_type) {
  FakeConnection c;
  c.id = std::move(id);
  c.name = std::move(name);
  c.source_type = std::move(source_type);
  return c;
}

// Waits for a condition without a fixed sleep; false when the deadline passes first.
template <typename Predicate>
bool WaitUntil(Predicate predicate, milliseconds deadline = milliseconds(5000)) {
  const auto end = steady_clock::now() + deadline;
  while (!predicate()) {
    if (steady_clock::now() > end) return false;
    std::this_thread::sleep_for(milliseconds(1));  // polling, not synchronising
  }
  return true;
}

class FakeServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FakeConnection pg = Connection("conn_1", "prod-pg", "postgres");
    pg.table_count = 3;
    pg.synced_table_count = 2;
    pg.latency_ms = 12;
    pg.tables = {Table("public", "orders"), Table("eu.sales", "Order Items"), Table("raw", "a/b")};
    pg.tables[2].synced_at.reset();
    FakeTable unprofiled = Table("public", "fresh");
    unprofiled.has_profile = false;
    pg.tables.push_back(unprofiled);
    server_.Upsert(pg);
    server_.Upsert(Connection("conn_2", "lake", "managed"));
    FakeConnection catalog = Connection("conn_3", "catalog", "duckdb");
    catalog.backs_default_catalog = true;
    server_.Upsert(catalog);
    ASSERT_GT(server_.Start(), 0);
  }

  httplib::Client Client() {
    httplib::Client client("127.0.0.1", server_.port());
    client.set_read_timeout(5, 0);
    return client;
  }

  httplib::Result Post(const std::string& body) {
    return Client().Post("/v1/connections", body, "application/json");
  }

  FakeHotdataServer server_;
};

TEST_F(FakeServerTest, ListConnectionsAnswersIdNameAndSourceType) {
  auto res = Client().Get("/v1/connections");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(Body(res), json::parse(R"({"connections": [
      {"id": "conn_1", "name": "prod-pg", "source_type": "postgres"},
      {"id": "conn_2", "name": "lake", "source_type": "managed"},
      {"id": "conn_3", "name": "catalog", "source_type": "duckdb"}]})"));
}

TEST_F(FakeServerTest, GetConnectionAnswersCountsOr404) {
  auto res = Client().Get("/v1/connections/conn_1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(Body(res), json::parse(R"({"id": "conn_1", "name": "prod-pg",
      "source_type": "postgres", "table_count": 3, "synced_table_count": 2})"));

  ExpectError(Client().Get("/v1/connections/nope"), 404, "NOT_FOUND",
              "Connection 'nope' not found");
}

TEST_F(FakeServerTest, ConnectionIdIsDecodedFromItsSegment) {
  server_.Upsert(Connection("conn/x y", "odd", "postgres"));
  auto res = Client().Get("/v1/connections/conn%2Fx%20y");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(Body(res)["id"], "conn/x y");
}

TEST_F(FakeServerTest, HealthAnswersStateAsSetAnd404WhenUnknown) {
  auto res = Client().Get("/v1/connections/conn_1/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(Body(res), json::parse(R"({"connection_id": "conn_1", "healthy": true,
      "latency_ms": 12, "error": null})"));

  server_.SetHealth("conn_1", false, 10000, "timeout");
  res = Client().Get("/v1/connections/conn_1/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(Body(res), json::parse(R"({"connection_id": "conn_1", "healthy": false,
      "latency_ms": 10000, "error": "timeout"})"));

  ExpectError(Client().Get("/v1/connections/nope/health"), 404, "NOT_FOUND",
              "Connection 'nope' not found");
}

TEST_F(FakeServerTest, HealthWaitsItsDelayButStopCutsItShort) {
  FakeConnection slow = Connection("slow", "slow", "postgres");
  slow.health_delay = milliseconds(150);
  server_.Upsert(slow);
  auto start = steady_clock::now();
  auto res = Client().Get("/v1/connections/slow/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_GE(steady_clock::now() - start, milliseconds(150));

  slow.health_delay = milliseconds(30'000);
  server_.Upsert(slow);
  auto pending = std::async(std::launch::async,
                            [this] { return Client().Get("/v1/connections/slow/health"); });
  ASSERT_TRUE(
      WaitUntil([&] { return server_.CountRequests("GET", "/v1/connections/slow/health") == 2; }));
  start = steady_clock::now();
  server_.Stop();
  EXPECT_LT(steady_clock::now() - start, milliseconds(2000));
  pending.get();
}

TEST_F(FakeServerTest, CreateConnectionAnswers201AndAddsIt) {
  auto res = Post(R"({"name": "new-pg", "source_type": "postgres",
      "config": {"host": "db", "tables": [{"schema": "public", "table": "t1"},
                                          {"schema": "public", "table": "t2"}]}})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 201);
  json body = Body(res);
  EXPECT_EQ(body["name"], "new-pg");
  EXPECT_EQ(body["source_type"], "postgres");
  EXPECT_EQ(body["tables_discovered"], 2);
  EXPECT_EQ(body["discovery_status"], "success");
  ASSERT_TRUE(body["id"].is_string());
  auto created = server_.Get(body["id"].get<std::string>());
  ASSERT_TRUE(created);
  EXPECT_EQ(created->name, "new-pg");
  EXPECT_EQ(created->table_count, 2);

  res = Post(R"({"name": "quick", "source_type": "mysql", "config": {}, "secret_name": "s",
      "skip_discovery": true})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(Body(res)["discovery_status"], "skipped");
  EXPECT_EQ(Body(res)["tables_discovered"], 0);
  EXPECT_NE(Body(res)["id"], body["id"]);
}

TEST_F(FakeServerTest, CreateConnectionAnswers409ForATakenName) {
  auto res = Post(R"({"name": "prod-pg", "source_type": "postgres", "config": {}})");
  ExpectError(res, 409, "CONFLICT", "Connection named 'prod-pg' already exists");
}

TEST_F(FakeServerTest, CreateConnectionAnswers400ForInvalidRequests) {
  const struct {
    const char* body;
    const char* message;
  } cases[] = {
      {R"({"name": )", "Request body is not valid JSON"},
      {R"([1, 2])", "Request body must be a JSON object"},
      {R"({"source_type": "postgres", "config": {}})", "Field 'name' is required"},
      {R"({"name": "x", "config": {}})", "Field 'source_type' is required"},
      {R"({"name": "x", "source_type": "postgres"})",
       "Field 'config' is required and must be an object"},
      {R"({"name": "x", "source_type": "postgres", "config": {}, "secret_id": "a",
           "secret_name": "b"})",
       "secret_id and secret_name are mutually exclusive"},
  };
  for (const auto& c : cases) {
    auto res = Post(c.body);
    ASSERT_TRUE(res) << c.body;
    EXPECT_EQ(res->status, 400) << c.body;
    EXPECT_EQ(Body(res), ErrorBody("BAD_REQUEST", c.message)) << c.body;
  }
  EXPECT_EQ(server_.Connections().size(), 3u);
}

TEST_F(FakeServerTest, DeleteConnectionAnswers204Then404And409ForTheDefaultCatalog) {
  auto res = Client().Delete("/v1/connections/conn_2");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_EQ(res->body, "");
  EXPECT_FALSE(server_.Get("conn_2"));

  ExpectError(Client().Delete("/v1/connections/conn_2"), 404, "NOT_FOUND",
              "Connection 'conn_2' not found");
  ExpectError(Client().Delete("/v1/connections/conn_3"), 409, "CONFLICT",
              "Connection 'conn_3' backs a database's default catalog");
}

TEST_F(FakeServerTest, PurgeConnectionCacheAnswersAsDocumented) {
  auto res = Client().Delete("/v1/connections/conn_1/cache");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_EQ(res->body, "");

  ExpectError(Client().Delete("/v1/connections/conn_2/cache"), 400, "BAD_REQUEST",
              "managed catalogs cannot be purged");
  ExpectError(Client().Delete("/v1/connections/conn_3/cache"), 409, "CONFLICT",
              "Connection 'conn_3' backs a database's default catalog");
  ExpectError(Client().Delete("/v1/connections/nope/cache"), 404, "NOT_FOUND",
              "Connection 'nope' not found");
}

TEST_F(FakeServerTest, PurgeTableCacheDecodesEachSegment) {
  EXPECT_EQ(Status(Client().Delete("/v1/connections/conn_1/tables/eu.sales/Order%20Items/cache")),
            204);
  EXPECT_EQ(Status(Client().Delete("/v1/connections/conn_1/tables/raw/a%2Fb/cache")), 204);
  // A raw slash separates segments: this is table "a" of schema "raw", followed by junk.
  EXPECT_EQ(Status(Client().Delete("/v1/connections/conn_1/tables/raw/a/b/cache")), 404);
  ExpectError(Client().Delete("/v1/connections/conn_1/tables/public/missing/cache"), 404,
              "NOT_FOUND", "Table 'public.missing' not found");
  ExpectError(Client().Delete("/v1/connections/nope/tables/public/orders/cache"), 404, "NOT_FOUND",
              "Connection 'nope' not found");
}

TEST_F(FakeServerTest, TableProfileAnswersTheProfileOr404) {
  auto res = Client().Get("/v1/connections/conn_1/tables/eu.sales/Order%20Items/profile");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  json body = Body(res);
  EXPECT_EQ(body["connection"], "prod-pg");
  EXPECT_EQ(body["schema"], "eu.sales");
  EXPECT_EQ(body["table"], "Order Items");
  EXPECT_EQ(body["row_count"], 42);
  EXPECT_EQ(body["synced_at"], "2025-01-02T03:04:05Z");
  EXPECT_EQ(body["columns"], Table("x", "y").columns);

  res = Client().Get("/v1/connections/conn_1/tables/raw/a%2Fb/profile");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(Body(res)["table"], "a/b");
  EXPECT_FALSE(Body(res).contains("synced_at"));

  ExpectError(Client().Get("/v1/connections/conn_1/tables/public/fresh/profile"), 404, "NOT_FOUND",
              "Profile for table 'public.fresh' not found");
  ExpectError(Client().Get("/v1/connections/conn_1/tables/public/missing/profile"), 404,
              "NOT_FOUND", "Table 'public.missing' not found");
}

TEST_F(FakeServerTest, UnknownRouteAnswers404WithAnErrorBody) {
  for (const char* path : {"/v1/nothing", "/v1/connections/conn_1/", "/v1/connections/conn_1/x"}) {
    auto res = Client().Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
    EXPECT_EQ(Body(res)["error"]["code"], "NOT_FOUND") << path;
  }
}

TEST_F(FakeServerTest, ScriptAnswersStatusHeadersAndBodyAsIs) {
  ScriptedResponse busy =
      Scripted(503, R"({"error": {"code": "SERVICE_UNAVAILABLE", "message": "busy"}})");
  busy.headers["Retry-After"] = "2";
  server_.Script("GET", "/v1/connections", busy);
  auto res = Client().Get("/v1/connections?page=1");  // the query is not part of the match
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->get_header_value("Retry-After"), "2");
  EXPECT_EQ(Body(res), ErrorBody("SERVICE_UNAVAILABLE", "busy"));

  ScriptedResponse html = Scripted(200, "<html>bad gateway");
  html.content_type = "text/html";
  server_.Script("GET", "/v1/connections", html);
  res = Client().Get("/v1/connections");  // the latest script wins
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "<html>bad gateway");
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html");

  server_.ClearScripts();
  res = Client().Get("/v1/connections");
  ASSERT_TRUE(res);
  EXPECT_EQ(Body(res)["connections"].size(), 3u);
}

TEST_F(FakeServerTest, ScriptMatchesTheRawPathAndAnswersItsTimesOnly) {
  const std::string path = "/v1/connections/conn_1/tables/raw/a%2Fb/profile";
  ScriptedResponse truncated = Scripted(502, "{");
  truncated.times = 2;
  server_.Script("GET", path, truncated);
  EXPECT_EQ(Client().Get(path)->status, 502);
  EXPECT_EQ(Client().Get(path)->body, "{");
  EXPECT_EQ(Client().Get(path)->status, 200);
  EXPECT_EQ(server_.CountRequests("GET", path), 3u);
}

TEST_F(FakeServerTest, ScriptDelaysItsAnswer) {
  ScriptedResponse slow = Scripted(200, "{}");
  slow.delay = milliseconds(120);
  server_.Script("GET", "/v1/connections", slow);
  const auto start = steady_clock::now();
  auto res = Client().Get("/v1/connections");
  ASSERT_TRUE(res);
  EXPECT_GE(steady_clock::now() - start, milliseconds(120));
}

TEST_F(FakeServerTest, ScriptDropsTheConnectionWithoutAnswering) {
  ScriptedResponse drop;
  drop.drop = true;
  drop.times = 1;
  server_.Script("GET", "/v1/connections/conn_1/health", drop);
  httplib::Client client = Client();
  client.set_keep_alive(true);
  auto res = client.Get("/v1/connections/conn_1/health");
  EXPECT_FALSE(res);
  EXPECT_EQ(res.error(), httplib::Error::Read);
  res = client.Get("/v1/connections/conn_1/health");  // the client reconnects
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  client.stop();
}

TEST_F(FakeServerTest, RecordsRequestsWithHeadersOverOneKeepAliveConnection) {
  httplib::Client client = Client();
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  httplib::Headers headers = {{"Authorization", "Bearer t0k"}, {"X-Workspace-Id", "ws_1"}};
  ASSERT_TRUE(
      client.Get("/v1/connections/conn_1/tables/eu.sales/Order%20Items/profile?x=1", headers));
  ASSERT_TRUE(client.Post("/v1/connections", headers, R"({"name": 1})", "application/json"));
  client.stop();

  std::vector<RecordedRequest> requests = server_.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].path, "/v1/connections/conn_1/tables/eu.sales/Order%20Items/profile");
  EXPECT_EQ(requests[0].Header("authorization"), "Bearer t0k");
  EXPECT_EQ(requests[0].Header("X-WORKSPACE-ID"), "ws_1");
  EXPECT_EQ(requests[0].Header("X-Missing"), "");
  EXPECT_EQ(requests[1].method, "POST");
  EXPECT_EQ(requests[1].body, R"({"name": 1})");
  EXPECT_GT(requests[0].remote_port, 0);
  EXPECT_EQ(requests[0].remote_port, requests[1].remote_port);
  EXPECT_EQ(server_.CountRequests("POST", "/v1/connections"), 1u);

  server_.ClearRequests();
  EXPECT_TRUE(server_.Requests().empty());
}

TEST_F(FakeServerTest, RestartsOnTheSamePort) {
  const int port = server_.port();
  server_.Stop();
  EXPECT_FALSE(Client().Get("/v1/connections"));
  ASSERT_EQ(server_.Start(port), port);
  EXPECT_EQ(Client().Get("/v1/connections")->status, 200);
}

TEST(FakeServerTokenTest, MissingOrWrongTokenAnswers401) {
  FakeServerOptions options;
  options.expected_token = "s3cret";
  FakeHotdataServer server(options);
  server.Upsert(Connection("conn_1", "pg", "postgres"));
  ASSERT_GT(server.Start(), 0);
  httplib::Client client("127.0.0.1", server.port());
  for (const char* header : {"", "Bearer wrong", "s3cret", "Bearer s3cret2"}) {
    httplib::Headers headers;
    if (*header) headers.emplace("Authorization", header);
    auto res = client.Get("/v1/connections", headers);
    ASSERT_TRUE(res) << header;
    EXPECT_EQ(res->status, 401) << header;
    EXPECT_EQ(Body(res), ErrorBody("UNAUTHORIZED", "Missing or invalid bearer token")) << header;
  }
  auto res = client.Get("/v1/connections", {{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

class FakeServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir_template = std::filesystem::temp_directory_path() / "fake-tls-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template.data()), nullptr);
    dir_ = dir_template;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  FakeServerOptions TlsOptions(const std::string& cert_name) const {
    FakeServerOptions options;
    options.cert_file = dir_ + "/" + cert_name;
    options.key_file = dir_ + "/key.pem";
    return options;
  }
  std::string dir_;
};

TEST_F(FakeServerTlsTest, ServesHttpsThatVerifiesAgainstTheGeneratedCert) {
  auto written = WriteSelfSignedCert(dir_);
  ASSERT_TRUE(written) << written.error();
  FakeHotdataServer server(TlsOptions("cert.pem"));
  server.Upsert(Connection("conn_1", "pg", "postgres"));
  ASSERT_GT(server.Start(), 0);
  ASSERT_EQ(server.base_url(), "https://127.0.0.1:" + std::to_string(server.port()));

  for (const std::string host : {"https://127.0.0.1:", "https://localhost:"}) {
    httplib::Client client(host + std::to_string(server.port()));
    client.set_ca_cert_path(dir_ + "/cert.pem");
    client.enable_server_certificate_verification(true);
    auto res = client.Get("/v1/connections/conn_1");
    ASSERT_TRUE(res) << host << " " << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(Body(res)["name"], "pg");
  }

  ScriptedResponse drop;
  drop.drop = true;
  server.Script("GET", "/v1/connections", drop);
  httplib::Client dropped(server.base_url());
  dropped.set_ca_cert_path(dir_ + "/cert.pem");
  EXPECT_FALSE(dropped.Get("/v1/connections"));

  httplib::Client untrusting(server.base_url());  // system CAs only
  untrusting.enable_server_certificate_verification(true);
  auto res = untrusting.Get("/v1/connections");
  EXPECT_FALSE(res);
  EXPECT_EQ(res.error(), httplib::Error::SSLServerVerification);
}

TEST_F(FakeServerTlsTest, InvalidCertificateMakesStartFail) {
  FakeHotdataServer server(TlsOptions("missing.pem"));
  EXPECT_EQ(server.Start(), -1);
}

}  // namespace
}  // namespace hdm::fake
