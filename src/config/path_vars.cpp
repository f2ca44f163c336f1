#include "config/path_vars.h"

#include <cstdlib>

namespace hdm {
namespace {

bool NameChar(char c, bool first) {
  return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (!first && c >= '0' && c <= '9');
}

}  // namespace

std::expected<std::string, std::string> ExpandPathVariables(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '$' || i + 1 >= path.size() || path[i + 1] != '{') {
      out += path[i];
      continue;
    }
    const size_t close = path.find('}', i + 2);
    if (close == std::string_view::npos) {
      return std::unexpected("\"${\" without a closing \"}\"");
    }
    const std::string name(path.substr(i + 2, close - i - 2));
    bool valid = !name.empty();
    for (size_t k = 0; k < name.size() && valid; ++k) valid = NameChar(name[k], k == 0);
    if (!valid) return std::unexpected("\"${" + name + "}\" is not a variable name");
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') {
      return std::unexpected(
          name + " is not set" +
          (name == "CREDENTIALS_DIRECTORY"
               ? std::string(" (systemd sets it for a unit with LoadCredential=; outside systemd, "
                             "set it or write the path out)")
               : std::string()));
    }
    out += value;
    i = close;
  }
  return out;
}

}  // namespace hdm
