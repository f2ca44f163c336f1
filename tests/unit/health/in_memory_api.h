// A hand-written in-memory HotdataApi for scheduler tests: answers come from maps the test
// fills; every call is counted.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "hotdata/api.h"

namespace hdm::testing {

class InMemoryApi final : public hotdata::HotdataApi {
 public:
  using Err = hotdata::ApiError;

  void SetList(std::vector<hotdata::ConnectionInfo> list) {
    std::lock_guard l(mu_);
    list_ = std::move(list);
    list_error_.reset();
  }
  void FailList(Err e) {
    std::lock_guard l(mu_);
    list_error_ = std::move(e);
  }
  void SetHealth(const std::string& id, bool healthy, int64_t latency_ms = 10) {
    std::lock_guard l(mu_);
    health_[id] = hotdata::HealthResponse{id, healthy, latency_ms, std::nullopt};
    health_error_.erase(id);
  }
  void FailHealth(const std::string& id, Err e) {
    std::lock_guard l(mu_);
    health_error_[id] = std::move(e);
  }
  int HealthCalls(const std::string& id) const {
    std::lock_guard l(mu_);
    auto it = health_calls_.find(id);
    return it == health_calls_.end() ? 0 : it->second;
  }
  int ListCalls() const {
    std::lock_guard l(mu_);
    return list_calls_;
  }
  int ProfileCalls() const {
    std::lock_guard l(mu_);
    return profile_calls_;
  }

  hotdata::ApiResult<std::vector<hotdata::ConnectionInfo>> ListConnections(
      const hotdata::CallOptions&) override {
    std::lock_guard l(mu_);
    ++list_calls_;
    if (list_error_) return std::unexpected(*list_error_);
    return list_;
  }
  hotdata::ApiResult<hotdata::ConnectionDetails> GetConnection(
      const std::string& id, const hotdata::CallOptions&) override {
    std::lock_guard l(mu_);
    for (const auto& c : list_) {
      if (c.id == id) return hotdata::ConnectionDetails{c.id, c.name, c.source_type, 7, 5};
    }
    return std::unexpected(Err{.kind = hotdata::ErrorKind::kHttpStatus, .status = 404});
  }
  hotdata::ApiResult<hotdata::HealthResponse> CheckHealth(const std::string& id,
                                                          const hotdata::CallOptions&) override {
    std::lock_guard l(mu_);
    ++health_calls_[id];
    if (auto it = health_error_.find(id); it != health_error_.end()) {
      return std::unexpected(it->second);
    }
    if (auto it = health_.find(id); it != health_.end()) return it->second;
    return hotdata::HealthResponse{id, true, 10, std::nullopt};
  }
  hotdata::ApiResult<hotdata::CreateConnectionResponse> CreateConnection(
      const hotdata::CreateConnectionRequest&) override {
    return std::unexpected(Err{});
  }
  hotdata::ApiResult<hotdata::Empty> DeleteConnection(const std::string&) override {
    return std::unexpected(Err{});
  }
  hotdata::ApiResult<hotdata::Empty> PurgeConnectionCache(const std::string&) override {
    return hotdata::Empty{};
  }
  hotdata::ApiResult<hotdata::Empty> PurgeTableCache(const std::string&, const std::string&,
                                                     const std::string&) override {
    return hotdata::Empty{};
  }
  hotdata::ApiResult<hotdata::TableProfile> GetTableProfile(const std::string&, const std::string&,
                                                            const std::string&,
                                                            const hotdata::CallOptions&) override {
    std::lock_guard l(mu_);
    ++profile_calls_;
    return std::unexpected(Err{});
  }

 private:
  mutable std::mutex mu_;
  std::vector<hotdata::ConnectionInfo> list_;
  std::optional<Err> list_error_;
  std::map<std::string, hotdata::HealthResponse> health_;
  std::map<std::string, Err> health_error_;
  std::map<std::string, int> health_calls_;
  int list_calls_ = 0;
  int profile_calls_ = 0;
};

}  // namespace hdm::testing
