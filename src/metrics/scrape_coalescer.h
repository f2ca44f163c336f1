// ScrapeCoalescer: one render of /metrics serves every scrape that arrived while it waited.
//
// At 10,000 connections a render is about 9 MB of text; without coalescing, a burst of N
// concurrent scrapes would render (and gzip) N copies at once, each holding its own buffers.
// Here at most one render runs at a time; scrapes that arrive during it wait for the next one,
// which they then share, so every scrape sees state from after it arrived, never older, and
// memory and CPU stay bounded by two renders whatever the number of scrapers. The gzip form is
// made once per render, only when some scraper asks for it. Nothing is kept between scrapes.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace hdm {

class ScrapeCoalescer {
 public:
  class Body {
   public:
    explicit Body(std::string text) : text_(std::move(text)) {}
    // Gives the memory that the render left free back to the system (see the .cpp).
    ~Body();
    Body(const Body&) = delete;
    Body& operator=(const Body&) = delete;
    const std::string& text() const { return text_; }
    // gzip of text() at zlib level 1 (about 3 times faster than the default level, and the
    // exposition still compresses about 11:1). Made on first use; thread-safe.
    const std::string& gzip() const;

   private:
    std::string text_;
    mutable std::once_flag gzip_once_;
    mutable std::string gzip_;
  };

  explicit ScrapeCoalescer(std::function<std::string()> render);

  // A body rendered after this call began.
  std::shared_ptr<const Body> Get();

  uint64_t renders() const;  // how many renders ran (tests, benchmarks)
  int waiting() const;       // scrapes waiting for a render now (tests)

 private:
  const std::function<std::string()> render_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  bool rendering_ = false;
  uint64_t started_ = 0;                // generation of the last render started
  uint64_t done_ = 0;                   // generation of the last render finished
  std::shared_ptr<const Body> latest_;  // the last render, while some waiter has yet to take it
  int waiters_ = 0;
};

}  // namespace hdm
