// A hand-written HotdataApi for runner and service tests: purges answer what the test scripted
// (success by default) and are recorded; every other call fails. Thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "hotdata/api.h"

namespace hdm::policy::testing {

class PurgeApi final : public hotdata::HotdataApi {
 public:
  using Err = hotdata::ApiError;

  // The next purges answer these, in order; then success.
  void Script(std::vector<hotdata::ApiResult<hotdata::Empty>> answers) {
    std::lock_guard l(mu_);
    for (auto& a : answers) script_.push_back(std::move(a));
  }
  // "connection c1" or "table c1 public.orders", in call order.
  std::vector<std::string> Calls() const {
    std::lock_guard l(mu_);
    return calls_;
  }
  // Called at each purge before it answers, without the lock: a look at the world while the
  // purge is in flight. Set it before the first purge.
  void DuringPurge(std::function<void()> hook) { during_purge_ = std::move(hook); }
  bool Cancelled() const {
    std::lock_guard l(mu_);
    return cancelled_;
  }

  hotdata::ApiResult<hotdata::Empty> PurgeConnectionCache(const std::string& id) override {
    return Answer("connection " + id);
  }
  hotdata::ApiResult<hotdata::Empty> PurgeTableCache(const std::string& id,
                                                     const std::string& schema,
                                                     const std::string& table) override {
    return Answer("table " + id + " " + schema + "." + table);
  }
  void Cancel() override {
    std::lock_guard l(mu_);
    cancelled_ = true;
  }

  hotdata::ApiResult<std::vector<hotdata::ConnectionInfo>> ListConnections(
      const hotdata::CallOptions&) override {
    return std::unexpected(Err{});
  }
  hotdata::ApiResult<hotdata::ConnectionDetails> GetConnection(
      const std::string&, const hotdata::CallOptions&) override {
    return std::unexpected(Err{});
  }
  hotdata::ApiResult<hotdata::HealthResponse> CheckHealth(const std::string&,
                                                          const hotdata::CallOptions&) override {
    return std::unexpected(Err{});
  }
  hotdata::ApiResult<hotdata::CreateConnectionResponse> CreateConnection(
      const hotdata::CreateConnectionRequest&) override {
    return std::unexpected(Err{});
  }
  hotdata::ApiResult<hotdata::Empty> DeleteConnection(const std::string&) override {
    return std::unexpected(Err{});
  }
  hotdata::ApiResult<hotdata::TableProfile> GetTableProfile(const std::string&, const std::string&,
                                                            const std::string&,
                                                            const hotdata::CallOptions&) override {
    return std::unexpected(Err{});
  }

 private:
  hotdata::ApiResult<hotdata::Empty> Answer(std::string call) {
    if (during_purge_) during_purge_();
    std::lock_guard l(mu_);
    calls_.push_back(std::move(call));
    if (cancelled_) {
      return std::unexpected(Err{.kind = hotdata::ErrorKind::kCancelled, .message = "stopping"});
    }
    if (script_.empty()) return hotdata::Empty{};
    auto a = std::move(script_.front());
    script_.pop_front();
    return a;
  }

  mutable std::mutex mu_;
  std::deque<hotdata::ApiResult<hotdata::Empty>> script_;
  std::vector<std::string> calls_;
  bool cancelled_ = false;
  std::function<void()> during_purge_;
};

}  // namespace hdm::policy::testing
