// Internal to src/config: one parser per section of the file. Each starts from the defaults of
// config.h, overwrites what the node gives, and adds every problem it finds to `errors`.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/config_yaml.h"

namespace hdm::config_internal {

ApiConfig ParseApi(const YAML::Node& node, Errors& errors);
SchedulerConfig ParseScheduler(const YAML::Node& node, Errors& errors);
std::vector<TableWatch> ParseTables(const YAML::Node& node, Errors& errors);
ServerConfig ParseServer(const YAML::Node& node, Errors& errors);
SafetyConfig ParseSafety(const YAML::Node& node, Errors& errors);
// `have_tables`: whether the top-level `tables:` list is non-empty (table_stale needs it).
std::vector<PolicyConfig> ParsePolicies(const YAML::Node& node, bool have_tables, Errors& errors);

// A selector mapping {name, id, source_type}; each a glob or a list of globs.
Selector ParseSelector(const YAML::Node& node, const std::string& path, Errors& errors);
// A cron expression given as a string; reports `invalid cron expression "...": why`.
std::optional<CronSpec> ParseCronNode(const YAML::Node& node, const std::string& path,
                                      Errors& errors);

// Why `url` is not a usable api.base_url, or nullopt when it is.
std::optional<std::string> BaseUrlProblem(std::string_view url);
// Why `listen` is not `host:port`, `:port` or `[v6]:port`, or nullopt when it is.
std::optional<std::string> ListenProblem(std::string_view listen);

}  // namespace hdm::config_internal
