#include "health/executor.h"

#include <pthread.h>

#include <string>

namespace hdm {
namespace {

// The pool whose task this thread is running, and whether that task already posted the one
// follow-up that this same worker will pick up when the task returns.
thread_local const WorkerPool* current_pool = nullptr;
thread_local bool follow_up_claimed = false;

}  // namespace

WorkerPool::WorkerPool(int workers, const ApiFactory& factory) {
  if (workers < 1) workers = 1;
  clients_.reserve(workers);
  for (int i = 0; i < workers; ++i) clients_.push_back(factory());
  threads_.reserve(workers);
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this, i] { Run(i); });
}

WorkerPool::~WorkerPool() { Shutdown(); }

void WorkerPool::Post(ApiTask task) {
  // A result usually dispatches the next check: the worker that got the result runs it as soon
  // as its task returns, instead of waking another worker (one context switch less per check).
  const bool self = current_pool == this && !follow_up_claimed;
  if (self) follow_up_claimed = true;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    queue_.push_back(std::move(task));
  }
  if (!self) cv_.notify_one();
}

void WorkerPool::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (auto& c : clients_) c->Cancel();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void WorkerPool::Run(int index) {
  std::string name = "hdm-worker-" + std::to_string(index);
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
  hotdata::HotdataApi& api = *clients_[index];
  for (;;) {
    ApiTask task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    current_pool = this;
    follow_up_claimed = false;
    task(api);
    current_pool = nullptr;
  }
}

void ManualExecutor::Post(ApiTask task) {
  std::lock_guard lock(mu_);
  queue_.push_back(std::move(task));
}

size_t ManualExecutor::Pending() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

bool ManualExecutor::RunOne() {
  ApiTask task;
  {
    std::lock_guard lock(mu_);
    if (queue_.empty()) return false;
    task = std::move(queue_.front());
    queue_.pop_front();
  }
  task(api_);
  return true;
}

void ManualExecutor::RunAll() {
  while (RunOne()) {
  }
}

}  // namespace hdm
