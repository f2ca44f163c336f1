// LoadConfig / ParseConfig: the top level of the file, and error formatting.
#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config_sections.h"
#include "config/config_yaml.h"

namespace hdm {

using config_internal::Errors;
using config_internal::MapReader;

std::string ConfigError::ToString() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

namespace {

Config ParseRoot(const YAML::Node& root, const std::string& file_name, Errors& errors) {
  Config config;
  config.source_path = file_name;
  MapReader r(root, "", errors);
  if (auto v = r.Take("api")) {
    config.api = config_internal::ParseApi(*v, errors);
  } else if (root.IsMap()) {
    errors.Add(r.mark(), "api.base_url", "required key is missing");
  }
  if (auto v = r.Take("scheduler")) config.scheduler = config_internal::ParseScheduler(*v, errors);
  if (auto v = r.Take("tables")) config.tables = config_internal::ParseTables(*v, errors);
  if (auto v = r.Take("server")) config.server = config_internal::ParseServer(*v, errors);
  if (auto v = r.String("state_file", true)) config.state_file = *v;
  if (auto v = r.Take("safety")) config.safety = config_internal::ParseSafety(*v, errors);
  if (auto v = r.Take("policies")) {
    config.policies = config_internal::ParsePolicies(*v, !config.tables.empty(), errors);
  }
  r.Finish();
  return config;
}

}  // namespace

ConfigResult ParseConfig(const std::string& yaml_text, const std::string& file_name) {
  Errors errors(file_name);
  try {
    const std::vector<YAML::Node> documents = YAML::LoadAll(yaml_text);
    if (documents.empty() || documents[0].IsNull()) {
      errors.Add(YAML::Mark::null_mark(), "",
                 "the file is empty; a minimal config needs api.base_url");
      return std::unexpected(errors.Take());
    }
    if (documents.size() > 1) {
      errors.Add(documents[1], "",
                 "expected one YAML document, found " + std::to_string(documents.size()));
    }
    Config config = ParseRoot(documents[0], file_name, errors);
    if (errors.empty()) return config;
  } catch (const YAML::Exception& e) {
    errors.Add(e.mark, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    errors.Add(YAML::Mark::null_mark(), "", std::string("cannot parse: ") + e.what());
  }
  return std::unexpected(errors.Take());
}

ConfigResult LoadConfig(const std::string& path) {
  auto fail = [&](const std::string& why) {
    // No position and no key: ToString() gives "path: cannot read file: why".
    return ConfigResult(std::unexpect,
                        std::vector{ConfigError{.file = path,
                                                .line = 0,
                                                .column = 0,
                                                .key = "",
                                                .message = "cannot read file: " + why}});
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return fail(std::strerror(EISDIR));
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return fail(std::strerror(errno));
  return ParseConfig(text.str(), path);
}

}  // namespace hdm
