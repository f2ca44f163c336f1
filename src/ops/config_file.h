// The connection config file of `connections create --config FILE`: JSON as is, YAML converted
// to JSON (plain scalars typed as YAML 1.2 core: true/false, null/~, integers, floats; quoted
// scalars stay strings).
#pragma once

#include <expected>
#include <string>

#include <nlohmann/json.hpp>

namespace hdm::ops {

// `path` ends in .json, .yaml or .yml and holds one object (mapping). Errors name the file, and
// the line and column of a syntax error. Never throws.
std::expected<nlohmann::json, std::string> LoadConnectionConfig(const std::string& path);

// YAML text to JSON; `name` prefixes errors. Exposed for tests.
std::expected<nlohmann::json, std::string> YamlToJson(const std::string& text,
                                                      const std::string& name);

}  // namespace hdm::ops
