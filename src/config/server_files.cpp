#include "config/server_files.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace hdm {
namespace {

// Larger than any certificate chain or key a monitor needs; bounds what a wrong path costs.
constexpr std::streamsize kMaxFileBytes = 1 << 20;

constexpr std::string_view kHashHint =
    "make one with: htpasswd -nbBC 10 \"\" 'PASSWORD' | tr -d ':\\n'";

std::expected<std::string, std::string> ReadSmallFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return std::unexpected("cannot read " + path + ": " + std::strerror(EISDIR));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected("cannot read " + path + ": " + std::strerror(errno));
  std::string text(static_cast<size_t>(kMaxFileBytes) + 1, '\0');
  in.read(text.data(), kMaxFileBytes + 1);
  if (in.bad()) return std::unexpected("cannot read " + path + ": " + std::strerror(errno));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > static_cast<size_t>(kMaxFileBytes)) {
    return std::unexpected(path + " is larger than 1 MiB");
  }
  return text;
}

bool IsBcryptChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '/';
}

std::string_view Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

}  // namespace

std::optional<std::string> BcryptHashProblem(std::string_view hash) {
  // $2b$10$ + 22 characters of salt + 31 of digest = 60.
  const bool prefix = hash.size() >= 7 && hash[0] == '$' && hash[1] == '2' &&
                      (hash[2] == 'a' || hash[2] == 'b' || hash[2] == 'y') && hash[3] == '$' &&
                      hash[6] == '$';
  if (!prefix) return "expected a bcrypt hash starting $2b$, $2y$ or $2a$";
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') {
    return "the bcrypt cost must be two digits";
  }
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return "the bcrypt cost must be between 04 and 31";
  if (hash.size() != 60) return "a bcrypt hash has 60 characters";
  for (char c : hash.substr(7)) {
    if (!IsBcryptChar(c)) return "a bcrypt hash has only characters of ./A-Za-z0-9 after the cost";
  }
  return std::nullopt;
}

std::expected<std::string, std::string> ReadPasswordHash(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text) return std::unexpected(text.error());
  const std::string_view hash = Trim(*text);
  if (hash.empty()) return std::unexpected(path + " is empty; it must hold a bcrypt hash");
  if (auto problem = BcryptHashProblem(hash)) {
    std::string message = path + " does not hold a bcrypt hash (" + *problem + "); ";
    if (hash.find(":$2") != std::string_view::npos) {
      message += "it looks like an htpasswd line: keep only the part after \"user:\"";
    } else {
      message += "plain passwords are not accepted; " + std::string(kHashHint);
    }
    return std::unexpected(message);
  }
  return std::string(hash);
}

std::optional<std::string> PemFileProblem(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text) return text.error();
  if (text->find("-----BEGIN ") == std::string::npos) return path + " is not a PEM file";
  return std::nullopt;
}

std::vector<ConfigError> CheckServerFiles(const ServerConfig& server,
                                          const std::string& config_file) {
  std::vector<ConfigError> errors;
  auto add = [&](const std::string& key, const std::string& message) {
    errors.push_back({.file = config_file, .key = key, .message = message});
  };
  auto check_pem = [&](const std::string& key, const std::string& path) {
    if (auto problem = PemFileProblem(path)) add(key, *problem);
  };
  if (server.tls) {
    check_pem("server.tls.cert_file", server.tls->cert_file);
    check_pem("server.tls.key_file", server.tls->key_file);
  }
  if (server.basic_auth) {
    if (auto hash = ReadPasswordHash(server.basic_auth->password_file); !hash) {
      add("server.basic_auth.password_file", hash.error());
    }
  }
  return errors;
}

}  // namespace hdm
