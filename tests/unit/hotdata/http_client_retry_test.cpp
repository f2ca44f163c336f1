// HttpHotdataApi retries, timeouts, cancellation, keep-alive and observations.
#include <future>

#include "client_fixture.h"

namespace hdm::hotdata::testing {
namespace {

using HttpClientRetryTest = ClientTest;
using std::chrono::seconds;

fake::ScriptedResponse Status(int status, int times = -1) {
  return {.status = status,
          .body = R"({"error": {"code": "SERVICE_UNAVAILABLE", "message": "try later"}})",
          .times = times};
}

TEST_F(HttpClientRetryTest, InternalServerErrorIsNotRetried) {
  server_.Script("GET", kHealthPath, Status(500));
  auto r = Client()->CheckHealth("c1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 500);
  EXPECT_EQ(server_.CountRequests("GET", kHealthPath), 1u);
  EXPECT_EQ(observer_.Codes(), (std::vector<std::string>{"500"}));
}

TEST_F(HttpClientRetryTest, ServiceUnavailableIsRetriedUpToAttempts) {
  server_.Script("GET", kHealthPath, Status(503));
  auto r = Client()->CheckHealth("c1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kHttpStatus);
  EXPECT_EQ(r.error().status, 503);
  EXPECT_EQ(r.error().code, "SERVICE_UNAVAILABLE");
  EXPECT_EQ(server_.CountRequests("GET", kHealthPath), 3u);
  EXPECT_EQ(observer_.Codes(), (std::vector<std::string>{"503", "503", "503"}));
}

TEST_F(HttpClientRetryTest, BadGatewayAndGatewayTimeoutThenSuccess) {
  server_.Script("GET", kHealthPath, Status(502, 1));
  server_.Script("GET", kHealthPath, Status(504, 1));  // the latest script answers first
  auto r = Client()->CheckHealth("c1");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(observer_.Codes(), (std::vector<std::string>{"504", "502", "200"}));
  for (const auto& o : observer_.All()) EXPECT_EQ(o.op, Operation::kCheckConnectionHealth);
}

TEST_F(HttpClientRetryTest, RetryAfterIsHonouredOverMaxBackoff) {
  auto limited = Status(429, 1);
  limited.headers = {{"Retry-After", "1"}};
  server_.Script("GET", "/v1/connections", limited);
  const auto start = Clock::now();
  auto r = Client()->ListConnections(Within(seconds(5)));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_GE(Since(start), milliseconds(1000));
  EXPECT_EQ(observer_.Codes(), (std::vector<std::string>{"429", "200"}));
}

TEST_F(HttpClientRetryTest, RetryAfterBeyondTheDeadlineFailsAtOnceWithRetryAfter) {
  auto busy = Status(503);
  busy.headers = {{"Retry-After", "30"}};
  server_.Script("GET", kHealthPath, busy);
  const auto start = Clock::now();
  auto r = Client()->CheckHealth("c1", Within(milliseconds(1500)));
  ASSERT_FALSE(r);
  EXPECT_LT(Since(start), milliseconds(500));
  EXPECT_EQ(r.error().status, 503);
  EXPECT_EQ(r.error().retry_after, seconds(30));
  EXPECT_EQ(server_.CountRequests("GET", kHealthPath), 1u);
}

TEST_F(HttpClientRetryTest, NonGetCallsAreNeverRetried) {
  server_.Script("DELETE", "/v1/connections/c1/cache", Status(503));
  server_.Script("DELETE", "/v1/connections/c1/tables/public/orders/cache", Status(429));
  server_.Script("POST", "/v1/connections", Status(502));
  server_.Script("DELETE", "/v1/connections/c1", Status(504));
  auto api = Client();
  EXPECT_EQ(api->PurgeConnectionCache("c1").error().status, 503);
  EXPECT_EQ(api->PurgeTableCache("c1", "public", "orders").error().status, 429);
  EXPECT_EQ(api->CreateConnection({.name = "n", .source_type = "postgres"}).error().status, 502);
  EXPECT_EQ(api->DeleteConnection("c1").error().status, 504);
  EXPECT_EQ(server_.Requests().size(), 4u);
}

TEST_F(HttpClientRetryTest, DroppedConnectionIsRetriedForGets) {
  server_.Script("GET", kHealthPath, {.drop = true, .times = 1});
  auto r = Client()->CheckHealth("c1");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(observer_.Codes(), (std::vector<std::string>{"connection_error", "200"}));
}

TEST_F(HttpClientRetryTest, ConnectionDroppedEveryTimeIsAConnectionError) {
  server_.Script("GET", kHealthPath, {.drop = true});
  auto r = Client()->CheckHealth("c1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kConnection);
  EXPECT_EQ(observer_.Codes(),
            (std::vector<std::string>{"connection_error", "connection_error", "connection_error"}));
}

TEST_F(HttpClientRetryTest, DroppedPurgeIsNotRetried) {
  server_.Script("DELETE", "/v1/connections/c1/cache", {.drop = true});
  auto r = Client()->PurgeConnectionCache("c1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kConnection);
  EXPECT_EQ(observer_.Codes(), (std::vector<std::string>{"connection_error"}));
}

TEST_F(HttpClientRetryTest, ConnectionRefusedIsRetried) {
  fake::FakeHotdataServer gone;
  ASSERT_GT(gone.Start(), 0);
  const std::string url = gone.base_url();
  gone.Stop();
  ClientOptions o = Options();
  o.base_url = url;
  auto r = MakeHttpClient(o)->ListConnections();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kConnection);
  EXPECT_EQ(observer_.Codes().size(), 3u);
}

TEST_F(HttpClientRetryTest, SlowAnswerTimesOutAndIsNotRetried) {
  server_.Script("GET", kHealthPath, {.body = "{}", .delay = milliseconds(3000)});
  ClientOptions o = Options();
  o.timeout = milliseconds(200);
  const auto start = Clock::now();
  auto r = MakeHttpClient(o)->CheckHealth("c1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kTimeout);
  EXPECT_EQ(r.error().ToString(), "timeout after 200ms");
  EXPECT_LT(Since(start), milliseconds(1000));
  EXPECT_EQ(observer_.Codes(), (std::vector<std::string>{"timeout"}));
}

TEST_F(HttpClientRetryTest, DeadlineShortensTheAttempt) {
  server_.Script("GET", kHealthPath, {.body = "{}", .delay = milliseconds(3000)});
  const auto start = Clock::now();
  auto r = Client()->CheckHealth("c1", Within(milliseconds(150)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kTimeout);
  EXPECT_LT(Since(start), milliseconds(1000));
}

TEST_F(HttpClientRetryTest, PassedDeadlineSendsNothing) {
  auto r = Client()->CheckHealth("c1", CallOptions{.deadline = Clock::now()});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kTimeout);
  EXPECT_TRUE(server_.Requests().empty());
  EXPECT_TRUE(observer_.Codes().empty());
}

TEST_F(HttpClientRetryTest, KeepAliveConnectionIsReused) {
  auto api = Client();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(api->CheckHealth("c1"));
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 4u);
  for (const auto& req : requests) EXPECT_EQ(req.remote_port, requests[0].remote_port);
}

TEST_F(HttpClientRetryTest, CancelAbortsARequestInFlight) {
  server_.Script("GET", kHealthPath, {.body = "{}", .delay = milliseconds(5000)});
  auto api = Client();
  auto call = std::async(std::launch::async, [&] { return api->CheckHealth("c1"); });
  ASSERT_TRUE(WaitUntil([&] { return server_.CountRequests("GET", kHealthPath) == 1; }));
  const auto start = Clock::now();
  api->Cancel();
  ASSERT_EQ(call.wait_for(seconds(2)), std::future_status::ready);
  EXPECT_LT(Since(start), milliseconds(500));
  auto r = call.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kCancelled);
  EXPECT_EQ(observer_.Codes(), (std::vector<std::string>{"cancelled"}));

  auto later = api->ListConnections();
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().kind, ErrorKind::kCancelled);
  EXPECT_EQ(server_.Requests().size(), 1u);
}

// issue #13 item 5: a purge cancelled while the server holds its answer went out, so the API
// may have acted on it; one cancelled before any call did not.
TEST_F(HttpClientRetryTest, ACancelledErrorTellsWhetherTheRequestWentOut) {
  const std::string purge = "/v1/connections/c1/cache";
  server_.Script("DELETE", purge, {.status = 204, .body = "", .delay = milliseconds(5000)});
  auto api = Client();
  auto call = std::async(std::launch::async, [&] { return api->PurgeConnectionCache("c1"); });
  ASSERT_TRUE(WaitUntil([&] { return server_.CountRequests("DELETE", purge) == 1; }));
  api->Cancel();
  ASSERT_EQ(call.wait_for(seconds(2)), std::future_status::ready);
  auto r = call.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kCancelled);
  EXPECT_TRUE(r.error().request_sent);
  auto later = api->PurgeConnectionCache("c1");
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().kind, ErrorKind::kCancelled);
  EXPECT_FALSE(later.error().request_sent);
  // An HTTP status is an answer to a request that went out.
  server_.ClearScripts();
  server_.Script("DELETE", purge, Status(503));
  auto fresh = Client();
  auto busy = fresh->PurgeConnectionCache("c1");
  ASSERT_FALSE(busy);
  EXPECT_TRUE(busy.error().request_sent);
}

TEST_F(HttpClientRetryTest, CancelInterruptsTheBackoffWait) {
  auto busy = Status(503);
  busy.headers = {{"Retry-After", "5"}};
  server_.Script("GET", kHealthPath, busy);
  auto api = Client();
  auto call = std::async(std::launch::async, [&] { return api->CheckHealth("c1"); });
  ASSERT_TRUE(WaitUntil([&] { return observer_.Codes().size() == 1; }));
  const auto start = Clock::now();
  api->Cancel();
  ASSERT_EQ(call.wait_for(seconds(2)), std::future_status::ready);
  EXPECT_LT(Since(start), milliseconds(500));
  EXPECT_EQ(call.get().error().kind, ErrorKind::kCancelled);
  EXPECT_EQ(server_.CountRequests("GET", kHealthPath), 1u);
}

TEST_F(HttpClientRetryTest, CancelBeforeAnyCallIsQuick) {
  auto api = Client();
  api->Cancel();
  EXPECT_EQ(api->CheckHealth("c1").error().kind, ErrorKind::kCancelled);
  EXPECT_EQ(api->PurgeConnectionCache("c1").error().kind, ErrorKind::kCancelled);
  EXPECT_TRUE(server_.Requests().empty());
}

TEST_F(HttpClientRetryTest, ObserverSeesEveryAttemptWithItsOperation) {
  auto api = Client();
  ASSERT_TRUE(api->ListConnections());
  ASSERT_FALSE(api->GetConnection("nope"));
  ASSERT_TRUE(api->PurgeTableCache("c1", "public", "orders"));
  const auto seen = observer_.All();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].op, Operation::kListConnections);
  EXPECT_EQ(seen[0].code, "200");
  EXPECT_EQ(seen[1].op, Operation::kGetConnection);
  EXPECT_EQ(seen[1].code, "404");
  EXPECT_EQ(seen[2].op, Operation::kPurgeTableCache);
  EXPECT_EQ(seen[2].code, "204");
  for (const auto& o : seen) {
    EXPECT_GT(o.seconds, 0.0);
    EXPECT_LT(o.seconds, 2.0);
  }
}

}  // namespace
}  // namespace hdm::hotdata::testing
