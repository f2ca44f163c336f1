// Host name resolution for the HTTP client, bounded by the request's deadline and cancellable.
//
// getaddrinfo() blocks (for as long as the system resolver's timeouts and attempts add up to when
// DNS is down) and cannot be interrupted. So the lookup runs on a resolver thread and the caller
// waits for its answer only until its deadline or its stop token fires; the blocked lookup keeps
// running in the background, and whoever asks for the same host meanwhile waits on that lookup
// instead of starting another. At most `max_threads` lookups run at once; more wait in a queue.
// The threads are detached and own what they touch (shared state), so neither a Cancel() nor
// the process's exit waits for them.
//
// getaddrinfo() gives no TTL: an answer is kept for a short fixed time (`answer_ttl`) and a
// failure for a shorter one (`failure_ttl`, 0: not at all). IP literals are converted at once,
// never cached and never queued.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "common/clock.h"

namespace hdm::hotdata {

// One address of a host; its port is 0 (the caller sets it).
struct ResolvedAddress {
  int family = 0;  // AF_INET or AF_INET6
  sockaddr_storage addr{};
  socklen_t len = 0;
};
using Addresses = std::vector<ResolvedAddress>;

// A blocking lookup of a host name (never an IP literal): its stream addresses in the order to
// try them, or why there are none. May be called on several threads at once, for different hosts.
using ResolveFn = std::function<std::expected<Addresses, std::string>(const std::string& host)>;
// getaddrinfo(), with gai_strerror()'s text on failure.
std::expected<Addresses, std::string> SystemResolve(const std::string& host);

struct ResolverOptions {
  ResolveFn resolve = SystemResolve;
  std::chrono::milliseconds answer_ttl{30'000};
  std::chrono::milliseconds failure_ttl{1'000};
  int max_threads = 4;                 // lookups running at once (at most one per host)
  std::shared_ptr<const Clock> clock;  // measures the TTLs; null: the system clock
};

enum class ResolveError {
  kTimeout,    // the deadline passed first (the lookup goes on, and its answer is cached)
  kCancelled,  // the stop token fired first
  kFailed,     // the lookup failed (or failed within failure_ttl)
};
struct ResolveFailure {
  ResolveError error = ResolveError::kFailed;
  std::string reason;  // kFailed: the lookup's (gai_strerror's) text
};

// Thread-safe. Destroying it waits for nothing: lookups in progress finish in the background.
class Resolver {
 public:
  explicit Resolver(ResolverOptions options = {});
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // The addresses of `host`: from the cache, from the lookup in progress, or from a new one.
  // Waits until `deadline` at most, and returns kCancelled as soon as `stop` is requested.
  std::expected<std::shared_ptr<const Addresses>, ResolveFailure> Resolve(const std::string& host,
                                                                          MonoTime deadline,
                                                                          std::stop_token stop);

  // The process's resolver, on getaddrinfo(), shared by every client that is given none (so the
  // workers share its cache and its lookups). Never destroyed.
  static std::shared_ptr<Resolver> Shared();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace hdm::hotdata
