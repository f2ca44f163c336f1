// Executor: where the scheduler's API calls run. The scheduler never holds more tasks in an
// executor than its concurrency, so an executor needs no queue bound of its own.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hotdata/api.h"

namespace hdm {

using ApiTask = std::function<void(hotdata::HotdataApi&)>;

class Executor {
 public:
  virtual ~Executor() = default;
  // Queues `task`; it runs later on some worker with that worker's own API client.
  // Thread-safe. Tasks posted after Shutdown() are dropped.
  virtual void Post(ApiTask task) = 0;
};

// A fixed set of named worker threads ("hdm-worker-N"), each owning one API client (one
// keep-alive connection). Shutdown() cancels the clients' calls in flight, drops queued tasks
// and joins every worker; the destructor calls it.
class WorkerPool final : public Executor {
 public:
  using ApiFactory = std::function<std::unique_ptr<hotdata::HotdataApi>()>;

  WorkerPool(int workers, const ApiFactory& factory);
  ~WorkerPool() override;
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Post(ApiTask task) override;
  void Shutdown();

 private:
  void Run(int index);

  std::vector<std::unique_ptr<hotdata::HotdataApi>> clients_;  // one per worker, fixed
  std::vector<std::thread> threads_;

  std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  std::deque<ApiTask> queue_;
  bool stopping_ = false;
};

// Runs nothing until the test says so: tests control exactly which calls are in flight.
class ManualExecutor final : public Executor {
 public:
  explicit ManualExecutor(hotdata::HotdataApi& api) : api_(api) {}
  void Post(ApiTask task) override;
  size_t Pending() const;
  // Runs the oldest queued task (tasks it posts are queued behind); false when none.
  bool RunOne();
  // Runs tasks until none is left, including the ones they post.
  void RunAll();

 private:
  hotdata::HotdataApi& api_;
  mutable std::mutex mu_;
  std::deque<ApiTask> queue_;  // Guarded by mu_.
};

}  // namespace hdm
