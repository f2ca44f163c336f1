// Test helper: a bcrypt hash of `password` at cost 5 (fast), with a fresh random salt.
#pragma once

#include <crypt.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace hdm::testing {

inline std::string MakeBcryptHash(const std::string& password, int cost = 5) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", cost, nullptr, 0, salt, sizeof salt) == nullptr) {
    throw std::runtime_error("crypt_gensalt_rn failed");
  }
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_rn(password.c_str(), salt, data.get(), sizeof(crypt_data));
  if (hash == nullptr) throw std::runtime_error("crypt_rn failed");
  return hash;
}

}  // namespace hdm::testing
