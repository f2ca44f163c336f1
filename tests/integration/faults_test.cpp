// Each fault of the API fails the one check it hits: check_success goes to 0, `healthy` keeps
// the last answer, the other connections are untouched, and the code is counted.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "integration/harness.h"

namespace hdm::testing {
namespace {

struct Fault {
  std::string name;
  fake::ScriptedResponse response;
  std::string code;  // expected `code` label
};

std::string Labels(const std::string& id, const std::string& name) {
  return "{connection_id=\"" + id + "\",connection=\"" + name + "\"}";
}

void PrintTo(const Fault& f, std::ostream* os) { *os << f.name; }

class FaultTest : public ::testing::TestWithParam<Fault> {};

TEST_P(FaultTest, FailsTheCheckWithoutTouchingHealthyOrOtherConnections) {
  const Fault& f = GetParam();
  DaemonHarness h;
  ASSERT_TRUE(h.WaitForRounds(1));
  const std::string pg = Labels("conn_pg", "prod-pg");
  ASSERT_EQ(SeriesValue(h.Metrics(), "hotdata_connection_check_success" + pg), 1);

  h.fake().Script("GET", "/v1/connections/conn_pg/health", f.response);
  ASSERT_TRUE(WaitFor(
      [&] { return SeriesValue(h.Metrics(), "hotdata_connection_check_success" + pg) == 0; }));
  const uint64_t rounds = h.daemon().scheduler().RoundsCompleted();
  ASSERT_TRUE(h.WaitForRounds(rounds + 1));
  const std::string m = h.Metrics();
  EXPECT_EQ(SeriesValue(m, "hotdata_connection_healthy" + pg), 1);
  EXPECT_EQ(SeriesValue(m, "hotdata_connection_unhealthy_streak" + pg), 0);
  EXPECT_EQ(SeriesValue(m, "hotdata_connection_check_success" + Labels("conn_my", "prod-mysql")),
            1);
  EXPECT_EQ(SeriesValue(m, "hotdata_connection_healthy" + Labels("conn_my", "prod-mysql")), 1);
  auto counted = SeriesValue(m, "hotdata_api_requests_total{code=\"" + f.code +
                                    "\",operation=\"check_connection_health\"}");
  ASSERT_TRUE(counted.has_value()) << m;
  EXPECT_GE(*counted, 1);
  auto status = h.Get("/api/v1/status").body;
  EXPECT_NE(status.find("\"code\": \"" + f.code + "\""), std::string::npos) << status;
}

const std::string kErr500 = R"({"error":{"code":"INTERNAL_SERVER_ERROR","message":"boom"}})";

INSTANTIATE_TEST_SUITE_P(
    Faults, FaultTest,
    ::testing::Values(
        Fault{"http500", {.status = 500, .body = kErr500}, "500"},
        Fault{"http503",
              {.status = 503, .body = "<html>unavailable</html>", .content_type = "text/html"},
              "503"},
        Fault{"http429", {.status = 429, .body = "{}", .headers = {{"Retry-After", "1"}}}, "429"},
        Fault{"http404",
              {.status = 404,
               .body =
                   R"({"error":{"code":"NOT_FOUND","message":"Connection 'conn_pg' not found"}})"},
              "404"},
        Fault{"malformed",
              {.status = 200, .body = R"({"connection_id": "conn_pg", "healthy": tr)"},
              "invalid_response"},
        Fault{"nonjson",
              {.status = 200, .body = "<html>proxy</html>", .content_type = "text/html"},
              "invalid_response"},
        Fault{"missing_field",
              {.status = 200, .body = R"({"connection_id": "conn_pg"})"},
              "invalid_response"},
        Fault{"wrong_type",
              {.status = 200,
               .body = R"({"connection_id": "conn_pg", "healthy": "yes", "latency_ms": 3})"},
              "invalid_response"},
        Fault{"slow",
              {.status = 200, .body = "{}", .delay = std::chrono::milliseconds(900)},
              "timeout"},
        Fault{"dropped", {.drop = true}, "connection_error"}),
    [](const ::testing::TestParamInfo<Fault>& info) { return info.param.name; });

TEST(SecretsTest, TheTokenAppearsInNoLogLineEvenAtDebugLevel) {
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured));
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  {
    DaemonHarness h;
    ASSERT_TRUE(h.WaitForRounds(1));
    // A hostile or buggy server that echoes the request's token back in its error.
    h.fake().Script("GET", "/v1/connections/conn_pg/health",
                    {.status = 500, .body = std::string("Bearer ") + kToken});
    h.fake().Script("GET", "/v1/connections/conn_my/health",
                    {.status = 200, .body = std::string("{\"x\":\"") + kToken + "\"}"});
    // Both scripted answers taken (and logged), not only one of them.
    ASSERT_TRUE(WaitFor([&] {
      const std::string m = h.Metrics();
      return SeriesValue(m, "hotdata_connection_check_success" + Labels("conn_my", "prod-mysql")) ==
                 0 &&
             SeriesValue(m, "hotdata_connection_check_success" + Labels("conn_pg", "prod-pg")) == 0;
    }));
    EXPECT_EQ(h.Get("/api/v1/status").body.find(kToken), std::string::npos);
    EXPECT_EQ(h.Metrics().find(kToken), std::string::npos);
  }
  spdlog::set_default_logger(previous);
  const std::string logs = captured.str();
  EXPECT_FALSE(logs.empty());
  EXPECT_EQ(logs.find(kToken), std::string::npos) << logs;
}

}  // namespace
}  // namespace hdm::testing
