// HttpHotdataApi against the fake API: requests on the wire, answers decoded, errors mapped.
#include <nlohmann/json.hpp>

#include "client_fixture.h"

namespace hdm::hotdata::testing {
namespace {

using HttpClientTest = ClientTest;

TEST_F(HttpClientTest, ListConnectionsSendsAuthWorkspaceAndAcceptHeaders) {
  auto api = Client();
  auto r = api->ListConnections();
  ASSERT_TRUE(r) << r.error().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].id, "c1");
  EXPECT_EQ((*r)[0].name, "prod-pg");
  EXPECT_EQ((*r)[0].source_type, "postgres");

  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].path, "/v1/connections");
  EXPECT_EQ(requests[0].Header("Authorization"), std::string("Bearer ") + kToken);
  EXPECT_EQ(requests[0].Header("X-Workspace-Id"), "ws_123");
  EXPECT_EQ(requests[0].Header("Accept"), "application/json");
  EXPECT_EQ(requests[0].Header("User-Agent"), "hotdata-monitor");
}

TEST_F(HttpClientTest, NoWorkspaceHeaderWhenNotConfigured) {
  ClientOptions o = Options();
  o.workspace_id.clear();
  auto api = MakeHttpClient(o);
  ASSERT_TRUE(api->ListConnections());
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  for (const auto& [name, value] : requests[0].headers) EXPECT_NE(name, "X-Workspace-Id");
  EXPECT_EQ(requests[0].Header("X-Workspace-Id"), "");
}

TEST_F(HttpClientTest, GetConnectionDecodesCounts) {
  auto r = Client()->GetConnection("c1");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->name, "prod-pg");
  EXPECT_EQ(r->table_count, 3);
  EXPECT_EQ(r->synced_table_count, 2);
  EXPECT_EQ(server_.CountRequests("GET", "/v1/connections/c1"), 1u);
}

TEST_F(HttpClientTest, CheckHealthReturnsUnhealthyAsAnAnswerWithoutRetry) {
  auto api = Client();
  auto up = api->CheckHealth("c1");
  ASSERT_TRUE(up) << up.error().ToString();
  EXPECT_TRUE(up->healthy);
  EXPECT_EQ(up->latency_ms, 7);

  server_.SetHealth("c1", false, 10'000, "timeout connecting to db");
  auto down = api->CheckHealth("c1");
  ASSERT_TRUE(down) << down.error().ToString();
  EXPECT_FALSE(down->healthy);
  EXPECT_EQ(down->error, "timeout connecting to db");
  EXPECT_EQ(server_.CountRequests("GET", kHealthPath), 2u);
  EXPECT_EQ(observer_.Codes(), (std::vector<std::string>{"200", "200"}));
}

TEST_F(HttpClientTest, CreateConnectionPostsJson) {
  CreateConnectionRequest req;
  req.name = "new-pg";
  req.source_type = "postgres";
  req.config = {{"host", "db"}, {"port", 5432}};
  req.skip_discovery = true;
  auto r = Client()->CreateConnection(req);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->name, "new-pg");
  EXPECT_FALSE(r->id.empty());

  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/v1/connections");
  EXPECT_EQ(requests[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(requests[0].Header("Authorization"), std::string("Bearer ") + kToken);
  const auto body = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(body["config"]["port"], 5432);
  EXPECT_EQ(body["skip_discovery"], true);
  EXPECT_EQ(observer_.Codes(), (std::vector<std::string>{"201"}));
}

TEST_F(HttpClientTest, DeleteConnection) {
  auto r = Client()->DeleteConnection("c1");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(server_.CountRequests("DELETE", "/v1/connections/c1"), 1u);
  EXPECT_FALSE(server_.Get("c1"));
  EXPECT_EQ(observer_.Codes(), (std::vector<std::string>{"204"}));
}

TEST_F(HttpClientTest, PurgeConnectionCache) {
  auto r = Client()->PurgeConnectionCache("c1");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(server_.CountRequests("DELETE", "/v1/connections/c1/cache"), 1u);
}

TEST_F(HttpClientTest, PurgeTableCachePercentEncodesEverySegment) {
  auto api = Client();
  ASSERT_TRUE(api->PurgeTableCache("c1", "eu.sales", "Order Items"));
  ASSERT_TRUE(api->PurgeTableCache("c1", "public", "a/b"));
  EXPECT_EQ(
      server_.CountRequests("DELETE", "/v1/connections/c1/tables/eu.sales/Order%20Items/cache"),
      1u);
  EXPECT_EQ(server_.CountRequests("DELETE", "/v1/connections/c1/tables/public/a%2Fb/cache"), 1u);
}

TEST_F(HttpClientTest, GetTableProfileOfATableWithASlash) {
  auto r = Client()->GetTableProfile("c1", "public", "a/b");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->table, "a/b");
  EXPECT_EQ(r->row_count, 1);
  EXPECT_EQ(server_.CountRequests("GET", "/v1/connections/c1/tables/public/a%2Fb/profile"), 1u);
}

TEST_F(HttpClientTest, NotFoundErrorBodyIsDecoded) {
  auto r = Client()->GetConnection("missing");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kHttpStatus);
  EXPECT_EQ(r.error().status, 404);
  EXPECT_EQ(r.error().code, "NOT_FOUND");
  EXPECT_NE(r.error().message.find("missing"), std::string::npos) << r.error().message;
  EXPECT_TRUE(r.error().ToString().starts_with("HTTP 404 NOT_FOUND: ")) << r.error().ToString();
  EXPECT_FALSE(r.error().IsPermanent());
}

TEST_F(HttpClientTest, PurgeOfManagedCatalogAndDefaultCatalogArePermanent) {
  fake::FakeConnection managed{.id = "m1", .name = "managed", .source_type = "managed"};
  server_.Upsert(managed);
  fake::FakeConnection backing{.id = "d1", .name = "backing"};
  backing.backs_default_catalog = true;
  server_.Upsert(backing);
  auto api = Client();

  auto r400 = api->PurgeConnectionCache("m1");
  ASSERT_FALSE(r400);
  EXPECT_EQ(r400.error().status, 400);
  EXPECT_EQ(r400.error().code, "BAD_REQUEST");
  EXPECT_TRUE(r400.error().IsPermanent());

  auto r409 = api->PurgeConnectionCache("d1");
  ASSERT_FALSE(r409);
  EXPECT_EQ(r409.error().status, 409);
  EXPECT_EQ(r409.error().code, "CONFLICT");
  EXPECT_TRUE(r409.error().IsPermanent());
}

TEST_F(HttpClientTest, MalformedJsonIsAnInvalidResponse) {
  server_.Script("GET", "/v1/connections", {.status = 200, .body = R"({"connections": [{"id": )"});
  auto r = Client()->ListConnections();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidResponse);
  EXPECT_EQ(r.error().status, 200);
  EXPECT_EQ(observer_.Codes(), (std::vector<std::string>{"invalid_response"}));
  EXPECT_EQ(server_.CountRequests("GET", "/v1/connections"), 1u);
}

TEST_F(HttpClientTest, WrongFieldTypeNamesThePath) {
  server_.Script("GET", kHealthPath,
                 {.body = R"({"connection_id": "c1", "healthy": true, "latency_ms": -3})"});
  auto r = Client()->CheckHealth("c1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().ToString(),
            "invalid response (HTTP 200): latency_ms: expected non-negative integer, got -3");
}

TEST_F(HttpClientTest, NonJsonErrorBodyBecomesASanitisedExcerpt) {
  server_.Script("GET", "/v1/connections",
                 {.status = 403,
                  .body = "<html>\n<body>Forbidden \x01 " + std::string(400, 'x') + "</body>",
                  .content_type = "text/html"});
  auto r = Client()->ListConnections();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kHttpStatus);
  EXPECT_EQ(r.error().status, 403);
  EXPECT_EQ(r.error().code, "");
  EXPECT_TRUE(r.error().message.starts_with("<html> <body>Forbidden ? xxx")) << r.error().message;
  EXPECT_LE(r.error().message.size(), 210u);
}

TEST_F(HttpClientTest, TokenNeverAppearsInErrors) {
  const std::string echo =
      std::string(R"({"error": {"code": "UNAUTHORIZED", "message": "bad token )") + kToken +
      R"("}})";
  server_.Script("GET", "/v1/connections", {.status = 401, .body = echo});
  server_.Script("GET", "/v1/connections/c1", {.status = 200, .body = echo});
  auto api = Client();
  auto a = api->ListConnections();
  auto b = api->GetConnection("c1");
  ASSERT_FALSE(a);
  ASSERT_FALSE(b);
  for (const auto& e : {a.error(), b.error()}) {
    EXPECT_EQ(e.ToString().find(kToken), std::string::npos) << e.ToString();
    EXPECT_EQ(e.message.find(kToken), std::string::npos);
  }
  EXPECT_EQ(a.error().message, "bad token <redacted>");
}

TEST_F(HttpClientTest, BodyLargerThanTheLimitIsAnInvalidResponse) {
  ClientOptions o = Options();
  o.max_body_bytes = 1024;
  nlohmann::json big = {{"connections", nlohmann::json::array()}, {"pad", std::string(4096, 'x')}};
  server_.Script("GET", "/v1/connections", {.body = big.dump()});
  auto api = MakeHttpClient(o);
  auto r = api->ListConnections();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidResponse);
  EXPECT_EQ(observer_.Codes(), (std::vector<std::string>{"invalid_response"}));
  // The connection was abandoned mid-body; the next call still works.
  server_.ClearScripts();
  EXPECT_TRUE(api->ListConnections());
}

TEST_F(HttpClientTest, InvalidBaseUrlFailsEveryCallWithoutSending) {
  ClientOptions o = Options();
  o.base_url = "ftp://example.com";
  auto r = MakeHttpClient(o)->ListConnections();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kConnection);
  EXPECT_NE(r.error().message.find("base_url"), std::string::npos);
}

TEST_F(HttpClientTest, AHeaderValueWithALineBreakSendsNothing) {
  for (auto set : std::initializer_list<void (*)(ClientOptions&)>{
           [](ClientOptions& o) { o.token = std::string(kToken) + "\r\nX-Injected: 1"; },
           [](ClientOptions& o) { o.workspace_id = "ws\n"; },
           [](ClientOptions& o) { o.user_agent = "ua\r"; }}) {
    ClientOptions o = Options();
    set(o);
    auto r = MakeHttpClient(o)->ListConnections();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kConnection);
    EXPECT_NE(r.error().message.find("control character"), std::string::npos);
    EXPECT_EQ(r.error().message.find(kToken), std::string::npos);
  }
  EXPECT_EQ(server_.CountRequests("GET", "/v1/connections"), 0u);
}

}  // namespace
}  // namespace hdm::hotdata::testing
