// Shared by the HTTP client tests: a FakeHotdataServer with one connection, a recording
// RequestObserver and fast client options.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fake_hotdata.h"
#include "hotdata/http_client.h"

namespace hdm::hotdata::testing {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

inline constexpr char kToken[] = "tok-s3cret-123";
inline constexpr char kHealthPath[] = "/v1/connections/c1/health";

struct Observation {
  Operation op;
  std::string code;
  double seconds;
};

// Thread-safe.
class RecordingObserver final : public RequestObserver {
 public:
  void OnRequest(Operation op, std::string_view code, double seconds) override {
    std::lock_guard lock(mu_);
    seen_.push_back({op, std::string(code), seconds});
  }
  std::vector<std::string> Codes() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& o : seen_) out.push_back(o.code);
    return out;
  }
  std::vector<Observation> All() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Observation> seen_;  // Guarded by mu_.
};

// Polls `done` until it holds or `limit` passes; returns whether it held.
inline bool WaitUntil(const std::function<bool()>& done, milliseconds limit = milliseconds(2000)) {
  const auto give_up = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > give_up) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

inline milliseconds Since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() : server_(fake::FakeServerOptions{.expected_token = kToken}) {}

  void SetUp() override {
    ASSERT_GT(server_.Start(), 0);
    fake::FakeConnection c;
    c.id = "c1";
    c.name = "prod-pg";
    c.table_count = 3;
    c.synced_table_count = 2;
    c.latency_ms = 7;
    c.tables = {fake::FakeTable{.schema = "public", .table = "orders", .row_count = 10},
                fake::FakeTable{.schema = "eu.sales", .table = "Order Items", .row_count = 5},
                fake::FakeTable{.schema = "public", .table = "a/b", .row_count = 1}};
    server_.Upsert(c);
  }

  ClientOptions Options() {
    ClientOptions o;
    o.base_url = server_.base_url();
    o.token = kToken;
    o.workspace_id = "ws_123";
    o.timeout = milliseconds(2000);
    o.attempts = 3;
    o.backoff = milliseconds(10);
    o.max_backoff = milliseconds(40);
    o.observer = &observer_;
    return o;
  }
  std::unique_ptr<HotdataApi> Client() { return MakeHttpClient(Options()); }
  static CallOptions Within(milliseconds d) { return CallOptions{.deadline = Clock::now() + d}; }

  fake::FakeHotdataServer server_;
  RecordingObserver observer_;
};

}  // namespace hdm::hotdata::testing
