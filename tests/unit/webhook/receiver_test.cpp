// The receiver's answers (200 summary, 400, 413, 503) and what it counts.
#include "webhook/receiver.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

namespace hdm::webhook {
namespace {

constexpr char kFiring[] = R"({"version":"4","receiver":"r","alerts":[
  {"status":"firing","labels":{"alertname":"A","connection_id":"c1"},"startsAt":"2025-03-04T09:00:00Z"},
  {"status":"resolved","labels":{"alertname":"A","connection_id":"c2"},"startsAt":"2025-03-04T09:00:00Z",
   "endsAt":"2025-03-04T09:05:00Z"}],"truncatedAlerts":3})";

class ReceiverTest : public ::testing::Test {
 protected:
  Receiver Make(std::function<std::expected<SinkSummary, std::string>(const Payload&)> sink) {
    return Receiver(ReceiverOptions{
        .sink = std::move(sink),
        .on_request = [this](std::string_view r) { ++requests[std::string(r)]; },
        .on_alerts = [this](std::string_view s, uint64_t n) { alerts[std::string(s)] += n; },
        .on_truncated = [this](uint64_t n) { truncated += n; },
    });
  }
  std::map<std::string, uint64_t> requests;
  std::map<std::string, uint64_t> alerts;
  uint64_t truncated = 0;
  int sunk = 0;
};

TEST_F(ReceiverTest, ANotificationIsHandedToTheSinkAndSummarised) {
  Receiver r = Make([&](const Payload& p) -> std::expected<SinkSummary, std::string> {
    ++sunk;
    EXPECT_EQ(p.alerts.size(), 2u);
    return SinkSummary{.started = 1, .ended = 1};
  });
  const Reply reply = r.Handle(kFiring);
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.content_type, "application/json");
  const auto j = nlohmann::json::parse(reply.body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["alerts"], 2);
  EXPECT_EQ(j["started"], 1);
  EXPECT_EQ(j["ended"], 1);
  EXPECT_EQ(j["repeated"], 0);
  EXPECT_EQ(sunk, 1);
  EXPECT_EQ(requests, (std::map<std::string, uint64_t>{{"ok", 1}}));
  EXPECT_EQ(alerts, (std::map<std::string, uint64_t>{{"firing", 1}, {"resolved", 1}}));
  EXPECT_EQ(truncated, 3u);
}

TEST_F(ReceiverTest, ABadBodyIs400AndReachesNoSink) {
  Receiver r = Make([&](const Payload&) -> std::expected<SinkSummary, std::string> {
    ++sunk;
    return SinkSummary{};
  });
  const Reply reply = r.Handle(R"({"version":"3","alerts":[]})");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body,
            "bad notification: version: expected \"4\" (Alertmanager) or \"1\" (Grafana), got "
            "\"3\"\n");
  EXPECT_EQ(sunk, 0);
  EXPECT_EQ(requests, (std::map<std::string, uint64_t>{{"bad_request", 1}}));
  EXPECT_TRUE(alerts.empty());
}

TEST_F(ReceiverTest, TooLargeIs413AndReachesNoSink) {
  Receiver r = Make([&](const Payload&) -> std::expected<SinkSummary, std::string> {
    ++sunk;
    return SinkSummary{};
  });
  EXPECT_EQ(r.TooLarge(5'000'000).status, 413);
  EXPECT_EQ(r.TooLarge(5'000'000).body,
            "body of 5000000 bytes, more than the 1048576 bytes allowed\n");
  const Reply chunked = r.TooLarge(std::nullopt);  // a chunked body, its size unknown
  EXPECT_EQ(chunked.status, 413);
  EXPECT_EQ(chunked.body, "chunked body, more than the 1048576 bytes allowed\n");
  EXPECT_EQ(r.Handle(std::string(kMaxBodyBytes + 1, ' ')).status, 413);
  EXPECT_EQ(sunk, 0);
  EXPECT_EQ(requests, (std::map<std::string, uint64_t>{{"too_large", 4}}));
}

TEST_F(ReceiverTest, ASinkThatCannotTakeAlertsYetGives503) {
  Receiver r = Make([&](const Payload&) -> std::expected<SinkSummary, std::string> {
    return std::unexpected("no discovery yet");
  });
  const Reply reply = r.Handle(kFiring);
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.body, "not ready: no discovery yet\n");
  EXPECT_EQ(requests, (std::map<std::string, uint64_t>{{"unavailable", 1}}));
  EXPECT_TRUE(alerts.empty());  // counted once taken, so a retried notification counts once
}

}  // namespace
}  // namespace hdm::webhook
