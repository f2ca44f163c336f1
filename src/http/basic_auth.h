// BasicAuthChecker: HTTP basic authentication of one or several users, each against a bcrypt hash,
// as Prometheus exporters' web config (exporter-toolkit) does it.
//
// bcrypt is slow on purpose (cost 10 is ~50-100 ms of CPU), so a successful verification is
// remembered for kCacheTtl, keyed by a SHA-256 of the credentials: a scrape every 15 s pays one
// bcrypt a minute, not one per scrape. Failures are never cached (nothing for a guesser to
// fill), and bcrypt runs one at a time, so a flood of wrong passwords costs one core at most
// while cached credentials still pass. At most kMaxPendingVerifications requests wait for or run
// a bcrypt at once; beyond them an uncached check fails at once (401) instead of holding one of
// the server's worker threads in the queue, so a flood of wrong passwords cannot take every
// worker from authorised scrapes (whose credentials are cached). A wrong user name still pays a
// bcrypt (against the first user's hash), so timing does not tell user names apart when the
// hashes have the same cost; the final comparisons are constant-time.
//
// Thread-safe. Immutable apart from the cache; a reload builds a new checker.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace hdm {

class BasicAuthChecker {
 public:
  using Digest = std::array<unsigned char, 32>;
  using SteadyNow = std::function<std::chrono::steady_clock::time_point()>;
  static constexpr auto kCacheTtl = std::chrono::seconds(60);
  static constexpr size_t kCacheMaxEntries = 64;
  static constexpr int kMaxPendingVerifications = 4;

  // `bcrypt_hash` must be a `$2a$`, `$2b$` or `$2y$` hash that libxcrypt accepts; the error says
  // why not (never quoting it). `now` replaces the steady clock in tests.
  static std::expected<std::unique_ptr<BasicAuthChecker>, std::string> Create(
      std::string username, std::string bcrypt_hash, SteadyNow now = nullptr);
  // Several users, user name -> bcrypt hash (at least one). The error names the user at fault.
  static std::expected<std::unique_ptr<BasicAuthChecker>, std::string> Create(
      std::map<std::string, std::string> users, SteadyNow now = nullptr);

  // Whether the value of an Authorization header (`Basic base64(user:password)`) names a
  // configured user and its password. A missing, malformed or non-Basic header is false.
  bool Check(std::string_view authorization) const;

  // How many bcrypt computations ran (cache misses), for tests.
  uint64_t Verifications() const;
  // How many uncached checks failed at once because kMaxPendingVerifications were under way.
  uint64_t Overflows() const;

 private:
  BasicAuthChecker(std::map<std::string, std::string> users, SteadyNow now);
  bool Verify(std::string_view user, std::string_view password) const;

  const std::map<std::string, std::string> users_;  // user -> bcrypt hash; not empty
  const SteadyNow now_;
  mutable std::mutex bcrypt_mu_;  // one bcrypt at a time

  mutable std::mutex mu_;
  mutable std::map<Digest, std::chrono::steady_clock::time_point> cache_;  // Guarded by mu_.
  mutable uint64_t verifications_ = 0;                                     // Guarded by mu_.
  mutable int pending_ = 0;         // checks waiting for or running a bcrypt; guarded by mu_
  mutable uint64_t overflows_ = 0;  // Guarded by mu_.
};

// Decodes the credentials of a `Basic` Authorization header value into user and password (split
// at the first ':'); nullopt when it is not one. The scheme is case-insensitive.
struct BasicCredentials {
  std::string user;
  std::string password;
};
std::optional<BasicCredentials> ParseBasicAuthorization(std::string_view header);

}  // namespace hdm
