// ElasticPool: the threads that answer the monitor's HTTP requests. Threads start on demand, up
// to a bound, and exit after an idle spell, so that a quiet server holds one or two threads and a
// burst of scrapes gets many. Tasks beyond the bound wait in a FIFO queue, holding no thread.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

namespace hdm {

class ElasticPool {
 public:
  ElasticPool(int max_threads, std::chrono::milliseconds idle_exit);
  ~ElasticPool();  // Stop()s
  ElasticPool(const ElasticPool&) = delete;
  ElasticPool& operator=(const ElasticPool&) = delete;

  // Runs `task` on an idle thread, on a new one while fewer than max_threads run, else once a
  // thread is free. Tasks posted after Stop() run on the caller's thread.
  void Post(std::move_only_function<void()> task);
  // Runs the tasks already queued, then joins every thread.
  void Stop();

  int threads() const;       // running now
  int peak_threads() const;  // most that ever ran at once
  int queued() const;        // tasks waiting for a thread

 private:
  void Work(std::list<std::thread>::iterator self);
  void JoinExited();

  const int max_threads_;
  const std::chrono::milliseconds idle_exit_;
  mutable std::mutex mu_;
  std::condition_variable cv_;          // a task queued, or stopping
  std::condition_variable all_exited_;  // threads_ became empty
  // Guarded by mu_.
  std::deque<std::move_only_function<void()>> queue_;
  std::list<std::thread> threads_;  // running
  std::list<std::thread> exited_;   // returned from Work, to join
  int idle_ = 0;
  int peak_ = 0;
  bool stopping_ = false;
};

}  // namespace hdm
