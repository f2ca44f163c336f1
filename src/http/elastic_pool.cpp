#include "http/elastic_pool.h"

#include <pthread.h>

#include <algorithm>
#include <system_error>

#include <spdlog/spdlog.h>

namespace hdm {

ElasticPool::ElasticPool(int max_threads, std::chrono::milliseconds idle_exit)
    : max_threads_(std::max(1, max_threads)), idle_exit_(idle_exit) {}

ElasticPool::~ElasticPool() { Stop(); }

void ElasticPool::Post(std::move_only_function<void()> task) {
  JoinExited();
  std::unique_lock lock(mu_);
  if (stopping_) {
    lock.unlock();
    task();
    return;
  }
  queue_.push_back(std::move(task));
  if (idle_ >= static_cast<int>(queue_.size())) {
    lock.unlock();
    cv_.notify_one();
    return;
  }
  if (static_cast<int>(threads_.size()) >= max_threads_) return;  // waits its turn
  // The thread gets its own position in the list, to move itself to exited_ when it exits.
  threads_.emplace_back();
  const auto self = std::prev(threads_.end());
  try {
    *self = std::thread([this, self] { Work(self); });
  } catch (const std::system_error& e) {  // out of threads: the task waits for a running one
    threads_.erase(self);
    spdlog::error("HTTP: cannot start a worker thread ({} running): {}", threads_.size(), e.what());
    return;
  }
  peak_ = std::max(peak_, static_cast<int>(threads_.size()));
}

void ElasticPool::Work(std::list<std::thread>::iterator self) {
  pthread_setname_np(pthread_self(), "hdm-http-work");
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    const bool woke =
        cv_.wait_for(lock, idle_exit_, [this] { return stopping_ || !queue_.empty(); });
    --idle_;
    if (queue_.empty() && (stopping_ || !woke)) break;
    auto task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // its captures die on this thread, outside the lock
    lock.lock();
  }
  exited_.splice(exited_.end(), threads_, self);
  if (threads_.empty()) all_exited_.notify_all();
}

void ElasticPool::JoinExited() {
  std::list<std::thread> exited;
  {
    std::lock_guard lock(mu_);
    exited.swap(exited_);
  }
  for (auto& t : exited) t.join();
}

void ElasticPool::Stop() {
  {
    std::unique_lock lock(mu_);
    stopping_ = true;
    cv_.notify_all();
    all_exited_.wait(lock, [this] { return threads_.empty(); });
  }
  JoinExited();
}

int ElasticPool::threads() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(threads_.size());
}

int ElasticPool::peak_threads() const {
  std::lock_guard lock(mu_);
  return peak_;
}

int ElasticPool::queued() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(queue_.size());
}

}  // namespace hdm
