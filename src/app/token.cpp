#include "app/token.h"

#include <sys/prctl.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/path_vars.h"

namespace hdm {
namespace {

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

}  // namespace

std::expected<std::string, std::string> ReadToken(const ApiConfig& api) {
  // No core dump and no ptrace or /proc/PID/mem by other processes of the same user while the
  // token is in memory. Kept for the life of the process (the token stays until exit).
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (!api.token_file.empty()) {
    auto expanded = ExpandPathVariables(api.token_file);
    if (!expanded) {
      return std::unexpected("cannot read api.token_file " + api.token_file + ": " +
                             expanded.error());
    }
    const std::string& path = *expanded;
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      return std::unexpected("cannot read api.token_file " + path + ": it is a directory");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return std::unexpected("cannot read api.token_file " + path + ": " + std::strerror(errno));
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    std::string token = Trim(buf.str());
    if (token.empty()) return std::unexpected("api.token_file " + path + " is empty");
    if (token.find_first_of("\r\n") != std::string::npos) {
      return std::unexpected("api.token_file " + path +
                             " holds more than one line; it must hold the token alone");
    }
    return token;
  }
  const char* value = std::getenv(api.token_env.c_str());
  if (value == nullptr || Trim(value).empty()) {
    return std::unexpected("no API token: set api.token_file, or the environment variable " +
                           api.token_env);
  }
  return Trim(value);
}

}  // namespace hdm
