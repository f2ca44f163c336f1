// Host name resolution bounded by the request's deadline and ended by Cancel() (issue #13 item
// 14): the lookup is a function that blocks until the test releases it, as getaddrinfo() does
// while DNS is down. Nothing here sleeps or times the code: a request or a Cancel() must return
// while the lookup is still blocked, and every wait for that has a generous limit.
#include "hotdata/resolver.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <netinet/in.h>

#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>

#include "client_fixture.h"
#include "common/clock.h"

namespace hdm::hotdata::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

// Long enough for anything on a loaded machine; only a defect waits this long.
constexpr milliseconds kPatience(30'000);

Addresses Loopback() {
  ResolvedAddress a;
  a.family = AF_INET;
  auto* in = reinterpret_cast<sockaddr_in*>(&a.addr);
  in->sin_family = AF_INET;
  in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.len = sizeof(sockaddr_in);
  return {a};
}

// A lookup that blocks until Release() (or, so that a defect cannot hang the test for ever,
// until `give_up` passes) and then answers 127.0.0.1, or fails when told to. Counts the calls.
// Shared with the resolver's threads, which may outlive the test.
class BlockingLookup : public std::enable_shared_from_this<BlockingLookup> {
 public:
  explicit BlockingLookup(milliseconds give_up = milliseconds(60'000)) : give_up_(give_up) {}

  ResolveFn Fn() {
    return [self = shared_from_this()](const std::string& host) { return self->Lookup(host); };
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  void FailWith(std::string reason) {
    std::lock_guard lock(mu_);
    failure_ = std::move(reason);
  }
  int Entered() const {
    std::lock_guard lock(mu_);
    return entered_;
  }
  int Returned() const {
    std::lock_guard lock(mu_);
    return returned_;
  }
  std::vector<std::string> Hosts() const {
    std::lock_guard lock(mu_);
    return hosts_;
  }
  bool WaitEntered(int n, milliseconds limit = kPatience) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return entered_ >= n; });
  }
  bool WaitReturned(int n, milliseconds limit = kPatience) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return returned_ >= n; });
  }

 private:
  std::expected<Addresses, std::string> Lookup(const std::string& host) {
    std::unique_lock lock(mu_);
    ++entered_;
    hosts_.push_back(host);
    cv_.notify_all();
    const bool released = cv_.wait_for(lock, give_up_, [&] { return released_; });
    ++returned_;
    cv_.notify_all();
    if (!released) return std::unexpected(std::string("the test gave up"));
    if (!failure_.empty()) return std::unexpected(failure_);
    return Loopback();
  }

  const milliseconds give_up_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  bool released_ = false;
  std::string failure_;
  int entered_ = 0;
  int returned_ = 0;
  std::vector<std::string> hosts_;
};

// Releases the lookup when the test's body ends, before the futures declared earlier wait for
// the calls that may still be blocked in it (a failed assertion returns early).
struct ReleaseAtExit {
  std::shared_ptr<BlockingLookup> lookup;
  ~ReleaseAtExit() { lookup->Release(); }
};

constexpr char kHost[] = "api.hotdata.test";

class ResolverClientTest : public ClientTest {
 protected:
  void TearDown() override {
    lookup_->Release();
    // No resolver thread is left inside the lookup (nor in the server) after the test.
    EXPECT_TRUE(lookup_->WaitReturned(lookup_->Entered()));
  }

  std::shared_ptr<Resolver> MakeResolver(ResolverOptions o = {}) {
    o.resolve = lookup_->Fn();
    o.clock = clock_;
    return std::make_shared<Resolver>(std::move(o));
  }
  // The fake server's URL with a host name instead of 127.0.0.1.
  ClientOptions HostOptions(std::shared_ptr<Resolver> resolver) {
    ClientOptions o = Options();
    const std::string url = o.base_url;
    const size_t at = url.find("127.0.0.1");
    o.base_url = url.substr(0, at) + kHost + url.substr(at + 9);
    o.resolver = std::move(resolver);
    return o;
  }

  std::shared_ptr<BlockingLookup> lookup_ = std::make_shared<BlockingLookup>();
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
};

TEST_F(ResolverClientTest, BlockedLookupEndsTheRequestAtItsDeadlineWithATimeout) {
  auto api = MakeHttpClient(HostOptions(MakeResolver()));
  auto call = std::async(std::launch::async, [&] {
    auto r = api->CheckHealth("c1", Within(milliseconds(300)));
    return std::make_pair(r, lookup_->Returned() == 0);
  });
  ReleaseAtExit release{lookup_};
  ASSERT_EQ(call.wait_for(kPatience), std::future_status::ready)
      << "the request waited for the blocked lookup past its deadline";
  auto [r, while_blocked] = call.get();
  EXPECT_TRUE(while_blocked) << "the request returned only once the lookup was released";
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kTimeout);
  EXPECT_EQ(r.error().MetricCode(), "timeout");
  EXPECT_THAT(r.error().ToString(),
              HasSubstr(std::string("name resolution timed out for host ") + kHost));
  EXPECT_THAT(r.error().ToString(), Not(HasSubstr(kToken)));
  EXPECT_EQ(observer_.Codes(), (std::vector<std::string>{"timeout"}));
  EXPECT_TRUE(server_.Requests().empty());
  EXPECT_EQ(lookup_->Hosts(), (std::vector<std::string>{kHost}));
}

TEST_F(ResolverClientTest, CancelReturnsAtOnceWhileTheLookupIsBlocked) {
  ClientOptions o = HostOptions(MakeResolver());
  o.timeout = milliseconds(600'000);  // only Cancel() can end the request
  auto api = MakeHttpClient(o);
  auto call = std::async(std::launch::async, [&] { return api->CheckHealth("c1"); });
  ReleaseAtExit release_call{lookup_};
  ASSERT_TRUE(lookup_->WaitEntered(1));
  auto cancel = std::async(std::launch::async, [&] {
    api->Cancel();
    return lookup_->Returned() == 0;
  });
  ReleaseAtExit release_cancel{lookup_};
  ASSERT_EQ(cancel.wait_for(kPatience), std::future_status::ready)
      << "Cancel() waited for the blocked lookup";
  EXPECT_TRUE(cancel.get()) << "Cancel() returned only once the lookup was released";
  ASSERT_EQ(call.wait_for(kPatience), std::future_status::ready);
  auto r = call.get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kCancelled);
  EXPECT_EQ(lookup_->Returned(), 0);
  EXPECT_TRUE(server_.Requests().empty());
}

TEST_F(ResolverClientTest, RequestsForOneHostWaitOnOneLookupAndItsLateAnswerIsKept) {
  auto resolver = MakeResolver();
  std::vector<std::unique_ptr<HotdataApi>> workers;
  for (int i = 0; i < 3; ++i) workers.push_back(MakeHttpClient(HostOptions(resolver)));
  std::vector<std::future<ApiResult<HealthResponse>>> calls;
  for (auto& api : workers) {
    calls.push_back(std::async(
        std::launch::async, [&api] { return api->CheckHealth("c1", Within(milliseconds(300))); }));
  }
  ReleaseAtExit release{lookup_};
  for (auto& call : calls) {
    ASSERT_EQ(call.wait_for(kPatience), std::future_status::ready);
    auto r = call.get();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kTimeout) << r.error().ToString();
  }
  EXPECT_EQ(lookup_->Entered(), 1);

  // The lookup ends after everyone stopped waiting: its answer serves the next requests.
  lookup_->Release();
  ASSERT_TRUE(lookup_->WaitReturned(1));
  for (auto& api : workers) {
    auto r = api->CheckHealth("c1", Within(kPatience));
    ASSERT_TRUE(r) << r.error().ToString();
  }
  EXPECT_EQ(lookup_->Entered(), 1);
  EXPECT_EQ(server_.CountRequests("GET", kHealthPath), 3u);
}

TEST_F(ResolverClientTest, AnAnswerIsKeptForItsTtl) {
  lookup_->Release();
  auto resolver = MakeResolver({.answer_ttl = seconds(30)});
  // A new client for each request: a client keeps its connection, and connects (resolving the
  // host) only for its first request.
  ASSERT_TRUE(MakeHttpClient(HostOptions(resolver))->CheckHealth("c1"));
  EXPECT_EQ(lookup_->Entered(), 1);
  clock_->Advance(seconds(29));
  ASSERT_TRUE(MakeHttpClient(HostOptions(resolver))->CheckHealth("c1"));
  EXPECT_EQ(lookup_->Entered(), 1);
  clock_->Advance(seconds(2));
  ASSERT_TRUE(MakeHttpClient(HostOptions(resolver))->CheckHealth("c1"));
  EXPECT_EQ(lookup_->Entered(), 2);
  EXPECT_EQ(server_.CountRequests("GET", kHealthPath), 3u);
}

TEST_F(ResolverClientTest, AFailureIsAConnectionErrorAndIsKeptBriefly) {
  lookup_->FailWith("Temporary failure in name resolution");
  lookup_->Release();
  auto resolver = MakeResolver({.failure_ttl = seconds(1)});
  auto api = MakeHttpClient(HostOptions(resolver));  // 3 attempts
  auto r = api->CheckHealth("c1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kConnection);
  EXPECT_EQ(r.error().ToString(), std::string("connection error: cannot resolve host ") + kHost +
                                      ": Temporary failure in name resolution");
  // The retries (the fake clock does not move) get the failure without another lookup.
  EXPECT_EQ(observer_.Codes(),
            (std::vector<std::string>{"connection_error", "connection_error", "connection_error"}));
  EXPECT_EQ(lookup_->Entered(), 1);
  clock_->Advance(seconds(2));
  EXPECT_FALSE(api->CheckHealth("c1"));
  EXPECT_EQ(lookup_->Entered(), 2);
}

TEST_F(ResolverClientTest, AFailureIsNotKeptWithAZeroTtl) {
  lookup_->FailWith("Name or service not known");
  lookup_->Release();
  auto api = MakeHttpClient(HostOptions(MakeResolver({.failure_ttl = milliseconds(0)})));
  EXPECT_EQ(api->CheckHealth("c1").error().kind, ErrorKind::kConnection);
  EXPECT_EQ(lookup_->Entered(), 3);
}

TEST_F(ResolverClientTest, IpLiteralsAreNotLookedUp) {
  ClientOptions o = Options();  // http://127.0.0.1:PORT
  o.resolver = MakeResolver();
  ASSERT_TRUE(MakeHttpClient(o)->CheckHealth("c1"));
  EXPECT_EQ(lookup_->Entered(), 0);
}

TEST_F(ResolverClientTest, ClientAndResolverMayGoWhileTheLookupIsBlocked) {
  auto resolver = MakeResolver();
  auto api = MakeHttpClient(HostOptions(resolver));
  auto r = api->CheckHealth("c1", Within(milliseconds(200)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kTimeout);
  api->Cancel();
  api.reset();
  resolver.reset();
  // The lookup's thread finishes into state it owns (the sanitizer builds check this).
  lookup_->Release();
  EXPECT_TRUE(lookup_->WaitReturned(1));
}

TEST_F(ResolverClientTest, TheSystemLookupFindsLocalhost) {
  auto found = SystemResolve("localhost");
  ASSERT_TRUE(found) << found.error();
  ASSERT_FALSE(found->empty());
  for (const auto& a : *found) EXPECT_TRUE(a.family == AF_INET || a.family == AF_INET6);

  ClientOptions o = Options();
  o.base_url.replace(o.base_url.find("127.0.0.1"), 9, "localhost");
  auto r = MakeHttpClient(o)->CheckHealth("c1", Within(kPatience));  // the shared resolver
  ASSERT_TRUE(r) << r.error().ToString();
}

class ResolverTest : public ::testing::Test {
 protected:
  void TearDown() override {
    lookup_->Release();
    EXPECT_TRUE(lookup_->WaitReturned(lookup_->Entered()));
  }
  std::shared_ptr<BlockingLookup> lookup_ = std::make_shared<BlockingLookup>();
};

TEST_F(ResolverTest, StopEndsTheWaitAtOnce) {
  Resolver resolver({.resolve = lookup_->Fn()});
  std::stop_source stop;
  auto call = std::async(std::launch::async, [&] {
    auto r = resolver.Resolve(kHost, MonoTime::max(), stop.get_token());
    return std::make_pair(r, lookup_->Returned() == 0);
  });
  ReleaseAtExit release{lookup_};
  ASSERT_TRUE(lookup_->WaitEntered(1));
  stop.request_stop();
  ASSERT_EQ(call.wait_for(kPatience), std::future_status::ready);
  auto [r, while_blocked] = call.get();
  EXPECT_TRUE(while_blocked);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().error, ResolveError::kCancelled);
  // Stopped already: the cache is still asked, nothing waits.
  EXPECT_EQ(resolver.Resolve(kHost, MonoTime::max(), stop.get_token()).error().error,
            ResolveError::kCancelled);
}

TEST_F(ResolverTest, AtMostMaxThreadsLookupsRunAndTheOthersQueue) {
  Resolver resolver({.resolve = lookup_->Fn(), .max_threads = 2});
  const std::vector<std::string> hosts = {"a.test", "b.test", "c.test", "d.test"};
  for (const auto& host : hosts) {
    auto r = resolver.Resolve(host, MonoClock::now() + milliseconds(100), {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().error, ResolveError::kTimeout);
  }
  // Two threads, both blocked: the other two hosts wait for one of them.
  EXPECT_EQ(lookup_->Entered(), 2);
  lookup_->Release();
  ASSERT_TRUE(lookup_->WaitReturned(4));
  EXPECT_THAT(lookup_->Hosts(), ::testing::UnorderedElementsAreArray(hosts));
  for (const auto& host : hosts) {
    auto r = resolver.Resolve(host, MonoClock::now() + kPatience, {});
    ASSERT_TRUE(r) << r.error().reason;
    EXPECT_EQ((*r)->size(), 1u);
  }
  EXPECT_EQ(lookup_->Entered(), 4);
}

TEST(ResolverExitTest, ExitDoesNotWaitForABlockedLookup) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        // Never released: the process exits while a resolver thread is blocked in it (it gives
        // up after 20 s, so that a request waiting for it cannot hang this test for ever).
        static auto* lookup =
            new std::shared_ptr<BlockingLookup>(std::make_shared<BlockingLookup>(seconds(20)));
        Resolver resolver({.resolve = (*lookup)->Fn()});
        auto r = resolver.Resolve(kHost, MonoClock::now() + milliseconds(100), {});
        std::exit(!r && r.error().error == ResolveError::kTimeout ? 0 : 3);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace hdm::hotdata::testing
