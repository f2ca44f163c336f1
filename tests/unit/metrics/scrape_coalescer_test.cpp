#include "metrics/scrape_coalescer.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hdm {
namespace {

std::string Gunzip(const std::string& gz) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  std::string out(1 << 16, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

TEST(ScrapeCoalescerTest, EachSequentialScrapeRendersAfresh) {
  int n = 0;
  ScrapeCoalescer c([&n] { return "render " + std::to_string(++n) + "\n"; });
  EXPECT_EQ(c.Get()->text(), "render 1\n");
  EXPECT_EQ(c.Get()->text(), "render 2\n");
  EXPECT_EQ(c.renders(), 2u);
}

TEST(ScrapeCoalescerTest, GzipIsTheTextCompressed) {
  ScrapeCoalescer c([] { return std::string(5000, 'x') + "\n"; });
  auto body = c.Get();
  EXPECT_EQ(Gunzip(body->gzip()), body->text());
  EXPECT_LT(body->gzip().size(), 200u);
  EXPECT_EQ(&body->gzip(), &body->gzip());  // made once
}

// While one render is held in progress, many scrapes arrive: they all wait and then share
// exactly one further render, which started after they arrived.
TEST(ScrapeCoalescerTest, ScrapesArrivingDuringARenderShareTheNextOne) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  bool first_entered = false;
  std::atomic<int> calls{0};
  ScrapeCoalescer c([&] {
    const int call = ++calls;
    if (call == 1) {
      std::unique_lock lock(mu);
      first_entered = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
    }
    return "render " + std::to_string(call) + "\n";
  });
  std::string first_text;
  std::thread first([&] { first_text = c.Get()->text(); });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return first_entered; }));
  }
  constexpr int kScrapers = 16;
  std::vector<std::string> texts(kScrapers);
  std::vector<std::thread> scrapers;
  for (int i = 0; i < kScrapers; ++i) {
    scrapers.emplace_back([&, i] { texts[i] = c.Get()->text(); });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (c.waiting() < kScrapers && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(c.waiting(), kScrapers);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  first.join();
  for (auto& t : scrapers) t.join();
  EXPECT_EQ(first_text, "render 1\n");
  for (const std::string& t : texts) EXPECT_NE(t, "render 1\n");  // never older than the call
  EXPECT_EQ(calls.load(), 2);                                     // 16 scrapes, one render
  for (const std::string& t : texts) EXPECT_EQ(t, "render 2\n");
}

TEST(ScrapeCoalescerTest, ARenderThatThrowsLetsTheNextScrapeRender) {
  int n = 0;
  ScrapeCoalescer c([&n]() -> std::string {
    if (++n == 1) throw std::runtime_error("boom");
    return "ok\n";
  });
  EXPECT_THROW(c.Get(), std::runtime_error);
  EXPECT_EQ(c.Get()->text(), "ok\n");
}

}  // namespace
}  // namespace hdm
