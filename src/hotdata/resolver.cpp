#include "hotdata/resolver.h"

#include <netdb.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace hdm::hotdata {

namespace {

// getaddrinfo() for stream sockets; `flags` AI_NUMERICHOST converts an IP literal (and fails
// at once for anything else) without asking DNS.
std::expected<Addresses, std::string> GetAddrInfo(const std::string& host, int flags) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags;
  addrinfo* found = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
    return std::unexpected(std::string(gai_strerror(rc)));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, freeaddrinfo);
  Addresses out;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
        a->ai_addrlen > sizeof(sockaddr_storage)) {
      continue;
    }
    ResolvedAddress r;
    r.family = a->ai_family;
    std::memcpy(&r.addr, a->ai_addr, a->ai_addrlen);
    r.len = a->ai_addrlen;
    out.push_back(r);
  }
  if (out.empty()) return std::unexpected(std::string("no IPv4 or IPv6 address"));
  return out;
}

using Answer = std::expected<std::shared_ptr<const Addresses>, std::string>;

// Cache entries beyond this many are dropped when they expire (or all of them, were every one
// alive: the monitor asks for one host, so this never happens).
constexpr size_t kMaxCached = 64;

}  // namespace

std::expected<Addresses, std::string> SystemResolve(const std::string& host) {
  return GetAddrInfo(host, 0);
}

// Shared by the Resolver and its threads: a thread that outlives the Resolver keeps it alive.
struct Resolver::State {
  // A lookup of one host, queued or running. Waiters hold it until they have its answer.
  struct Flight {
    bool done = false;  // Guarded by State::mu.
    Answer answer;      // Guarded by State::mu; set when done.
  };
  struct Cached {
    Answer answer;
    MonoTime expires;
  };

  ResolverOptions options;

  std::mutex mu;
  // Notified when a lookup ends; `_any` for the waits that a stop token ends.
  std::condition_variable_any cv;
  // Guarded by mu.
  std::map<std::string, std::shared_ptr<Flight>> flights;             // queued or running
  std::deque<std::pair<std::string, std::shared_ptr<Flight>>> queue;  // not started yet
  int threads = 0;                                                    // running Work()
  std::map<std::string, Cached> cache;

  MonoTime Now() const { return options.clock->Mono(); }

  // Runs queued lookups until none is left; one detached thread each time it is started.
  static void Work(const std::shared_ptr<State>& self);
  // Records the answer of `host`'s lookup; wakes its waiters. Holds mu.
  void Finish(const std::string& host, const std::shared_ptr<Flight>& flight, Answer answer);
};

void Resolver::State::Work(const std::shared_ptr<State>& self) {
  std::unique_lock lock(self->mu);
  while (!self->queue.empty()) {
    auto [host, flight] = std::move(self->queue.front());
    self->queue.pop_front();
    lock.unlock();
    Answer answer;
    try {
      auto found = self->options.resolve(host);
      if (found) {
        answer = std::make_shared<const Addresses>(std::move(*found));
      } else {
        answer = std::unexpected(std::move(found.error()));
      }
    } catch (const std::exception& e) {
      answer = std::unexpected(std::string("lookup failed: ") + e.what());
    } catch (...) {
      answer = std::unexpected(std::string("lookup failed"));
    }
    lock.lock();
    self->Finish(host, flight, std::move(answer));
  }
  --self->threads;
}

void Resolver::State::Finish(const std::string& host, const std::shared_ptr<Flight>& flight,
                             Answer answer) {
  const auto ttl = answer ? options.answer_ttl : options.failure_ttl;
  if (ttl.count() > 0) {
    const MonoTime now = Now();
    if (cache.size() >= kMaxCached) {
      std::erase_if(cache, [now](const auto& entry) { return entry.second.expires <= now; });
      if (cache.size() >= kMaxCached) cache.clear();
    }
    cache[host] = Cached{answer, now + ttl};
  } else {
    cache.erase(host);
  }
  flight->answer = std::move(answer);
  flight->done = true;
  if (auto it = flights.find(host); it != flights.end() && it->second == flight) flights.erase(it);
  cv.notify_all();
}

Resolver::Resolver(ResolverOptions options) : state_(std::make_shared<State>()) {
  if (!options.clock) options.clock = std::make_shared<SystemClock>();
  if (!options.resolve) options.resolve = SystemResolve;
  options.max_threads = std::max(1, options.max_threads);
  state_->options = std::move(options);
}

// Lookups in progress keep the state alive and finish into it; nobody waits for them.
Resolver::~Resolver() = default;

std::expected<std::shared_ptr<const Addresses>, ResolveFailure> Resolver::Resolve(
    const std::string& host, MonoTime deadline, std::stop_token stop) {
  if (auto literal = GetAddrInfo(host, AI_NUMERICHOST)) {
    return std::make_shared<const Addresses>(std::move(*literal));
  }
  const auto failed = [](const std::string& reason) {
    return std::unexpected(ResolveFailure{ResolveError::kFailed, reason});
  };
  State& s = *state_;
  std::unique_lock lock(s.mu);
  if (auto it = s.cache.find(host); it != s.cache.end()) {
    if (s.Now() < it->second.expires) {
      if (it->second.answer) return *it->second.answer;
      return failed(it->second.answer.error());
    }
    s.cache.erase(it);
  }

  std::shared_ptr<State::Flight>& flight = s.flights[host];
  if (!flight) {
    flight = std::make_shared<State::Flight>();
    s.queue.emplace_back(host, flight);
    if (s.threads < s.options.max_threads) {
      try {
        std::thread(State::Work, state_).detach();
        ++s.threads;
      } catch (const std::system_error&) {
        // No thread now: a running one takes the lookup from the queue; with none running,
        // it fails (and is not cached).
        if (s.threads == 0) {
          std::erase_if(s.queue, [&](const auto& queued) { return queued.second == flight; });
          auto mine = flight;
          s.flights.erase(host);
          mine->done = true;
          mine->answer = std::unexpected(std::string("cannot start a resolver thread"));
          return failed(mine->answer.error());
        }
      }
    }
  }
  const std::shared_ptr<State::Flight> mine = flight;  // `flight` refers into the map
  s.cv.wait_until(lock, stop, deadline, [&] { return mine->done; });
  if (mine->done) {
    if (mine->answer) return *mine->answer;
    return failed(mine->answer.error());
  }
  if (stop.stop_requested()) return std::unexpected(ResolveFailure{ResolveError::kCancelled, ""});
  return std::unexpected(ResolveFailure{ResolveError::kTimeout, ""});
}

std::shared_ptr<Resolver> Resolver::Shared() {
  // Never destroyed: no worker can ask it for a host during the process's exit after its end.
  static auto* shared = new std::shared_ptr<Resolver>(std::make_shared<Resolver>());
  return *shared;
}

}  // namespace hdm::hotdata
