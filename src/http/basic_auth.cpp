#include "http/basic_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstring>
#include <optional>

#include "config/server_files.h"

namespace hdm {
namespace {

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard base64 with padding, as RFC 7617 clients send it; nullopt for anything else.
std::optional<std::string> DecodeBase64(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = in[i + j];
      if (c == '=' && last && j >= 2) {
        v[j] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return std::nullopt;  // data after padding
      v[j] = Base64Value(c);
      if (v[j] < 0) return std::nullopt;
    }
    const uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out.push_back(static_cast<char>((n >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((n >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
  }
  return out;
}

BasicAuthChecker::Digest Sha256(std::string_view a, std::string_view b = {}) {
  BasicAuthChecker::Digest out{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned int len = 0;
  const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
                  EVP_DigestUpdate(ctx, a.data(), a.size()) == 1 &&
                  EVP_DigestUpdate(ctx, "\0", 1) == 1 &&
                  EVP_DigestUpdate(ctx, b.data(), b.size()) == 1 &&
                  EVP_DigestFinal_ex(ctx, out.data(), &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) out.fill(0xff);  // never equal to a real digest of anything we compare against
  return out;
}

}  // namespace

std::optional<BasicCredentials> ParseBasicAuthorization(std::string_view header) {
  constexpr std::string_view kScheme = "basic ";
  if (header.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    const char c = header[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view encoded = header.substr(kScheme.size());
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  auto decoded = DecodeBase64(encoded);
  if (!decoded) return std::nullopt;
  const auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

std::expected<std::unique_ptr<BasicAuthChecker>, std::string> BasicAuthChecker::Create(
    std::string username, std::string bcrypt_hash, SteadyNow now) {
  std::map<std::string, std::string> users;
  users.emplace(std::move(username), std::move(bcrypt_hash));
  return Create(std::move(users), std::move(now));
}

std::expected<std::unique_ptr<BasicAuthChecker>, std::string> BasicAuthChecker::Create(
    std::map<std::string, std::string> users, SteadyNow now) {
  if (users.empty()) return std::unexpected("no basic auth user");
  for (const auto& [user, hash] : users) {
    if (user.empty() || user.find(':') != std::string::npos) {
      return std::unexpected("the basic auth user name must be non-empty and without ':'");
    }
    if (auto problem = BcryptHashProblem(hash)) {
      return std::unexpected("the basic auth password of " + user +
                             " is not a bcrypt hash: " + *problem);
    }
  }
  if (!now) now = [] { return std::chrono::steady_clock::now(); };
  return std::unique_ptr<BasicAuthChecker>(new BasicAuthChecker(std::move(users), std::move(now)));
}

BasicAuthChecker::BasicAuthChecker(std::map<std::string, std::string> users, SteadyNow now)
    : users_(std::move(users)), now_(std::move(now)) {}

bool BasicAuthChecker::Check(std::string_view authorization) const {
  const auto creds = ParseBasicAuthorization(authorization);
  if (!creds) return false;
  const Digest key = Sha256(creds->user, creds->password);
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (now_() < it->second) return true;
      cache_.erase(it);
    }
    if (pending_ >= kMaxPendingVerifications) {
      ++overflows_;
      return false;
    }
    ++pending_;
  }
  const bool verified = Verify(creds->user, creds->password);
  std::lock_guard lock(mu_);
  --pending_;
  if (!verified) return false;
  const auto now = now_();
  if (cache_.size() >= kCacheMaxEntries) {
    std::erase_if(cache_, [&](const auto& entry) { return entry.second <= now; });
  }
  if (cache_.size() >= kCacheMaxEntries) {
    auto oldest = cache_.begin();
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (it->second < oldest->second) oldest = it;
    }
    cache_.erase(oldest);
  }
  cache_[key] = now + kCacheTtl;
  return true;
}

bool BasicAuthChecker::Verify(std::string_view user, std::string_view password) const {
  // crypt_rn stops at a NUL: a password with one inside would be checked only up to it.
  if (password.find('\0') != std::string_view::npos) return false;
  const std::string phrase(password);
  // An unknown user pays a bcrypt all the same, against the first user's hash.
  const auto found = users_.find(std::string(user));
  const bool user_ok = found != users_.end();
  const std::string& hash = user_ok ? found->second : users_.begin()->second;
  bool hash_ok = false;
  {
    std::lock_guard lock(bcrypt_mu_);
    auto data = std::make_unique<crypt_data>();  // ~32 KiB: not on a pool thread's stack
    const char* out = crypt_rn(phrase.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
    hash_ok = out != nullptr && std::strlen(out) == hash.size() &&
              CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
    OPENSSL_cleanse(data.get(), sizeof(crypt_data));
  }
  OPENSSL_cleanse(const_cast<char*>(phrase.data()), phrase.size());
  {
    std::lock_guard lock(mu_);
    ++verifications_;
  }
  return hash_ok && user_ok;
}

uint64_t BasicAuthChecker::Verifications() const {
  std::lock_guard lock(mu_);
  return verifications_;
}

uint64_t BasicAuthChecker::Overflows() const {
  std::lock_guard lock(mu_);
  return overflows_;
}

}  // namespace hdm
