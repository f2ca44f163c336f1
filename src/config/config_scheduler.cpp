// The scheduler section, selectors and the top-level tables list.
#include <cstdint>

#include "config/config_sections.h"

namespace hdm::config_internal {
namespace {

// Why `glob` is not a usable fnmatch(3) pattern, or nullopt when it is.
std::optional<std::string> GlobProblem(std::string_view glob) {
  if (glob.empty()) return "an empty glob matches nothing";
  for (size_t i = 0; i < glob.size(); ++i) {
    if (glob[i] == '\\') {
      ++i;
      continue;
    }
    if (glob[i] != '[') continue;
    size_t j = i + 1;
    if (j < glob.size() && (glob[j] == '!' || glob[j] == '^')) ++j;
    if (j < glob.size() && glob[j] == ']') ++j;  // a leading ']' is literal
    j = glob.find(']', j);
    if (j == std::string_view::npos) {
      return "unterminated '[' in glob \"" + std::string(glob) + "\"";
    }
    i = j;
  }
  return std::nullopt;
}

std::vector<std::string> ParseGlobs(const YAML::Node& node, const std::string& path,
                                    Errors& errors) {
  auto globs = AsStrings(node, path, errors, /*allow_scalar=*/true);
  if (!globs) return {};
  for (size_t i = 0; i < globs->size(); ++i) {
    if (auto problem = GlobProblem((*globs)[i])) {
      errors.Add(node.IsSequence() ? node[i] : node, node.IsSequence() ? Index(path, i) : path,
                 *problem);
    }
  }
  return *globs;
}

ShardConfig ParseShard(const YAML::Node& node, Errors& errors) {
  ShardConfig shard;
  MapReader r(node, "scheduler.shard", errors);
  const auto index = r.Int("index", 0, INT32_MAX);
  if (auto count = r.Int("count", 1, INT32_MAX)) shard.count = static_cast<int>(*count);
  if (index) {
    if (*index >= shard.count) {
      errors.Add(*r.Take("index"), r.PathOf("index"),
                 "must be less than scheduler.shard.count (" + std::to_string(shard.count) +
                     "), got " + std::to_string(*index));
    }
    shard.index = static_cast<int>(*index);
  }
  r.Finish();
  return shard;
}

}  // namespace

Selector ParseSelector(const YAML::Node& node, const std::string& path, Errors& errors) {
  Selector selector;
  MapReader r(node, path, errors);
  if (auto v = r.Take("name")) selector.name = ParseGlobs(*v, r.PathOf("name"), errors);
  if (auto v = r.Take("id")) selector.id = ParseGlobs(*v, r.PathOf("id"), errors);
  if (auto v = r.Take("source_type")) {
    selector.source_type = ParseGlobs(*v, r.PathOf("source_type"), errors);
  }
  r.Finish();
  return selector;
}

SchedulerConfig ParseScheduler(const YAML::Node& node, Errors& errors) {
  SchedulerConfig scheduler;
  MapReader r(node, "scheduler", errors);
  if (auto v = r.Duration("interval", Millis{1'000})) scheduler.interval = *v;
  if (auto v = r.Duration("discovery_interval", Millis{1})) scheduler.discovery_interval = *v;
  if (auto v = r.Int("concurrency", 1, 1024)) scheduler.concurrency = static_cast<int>(*v);
  if (auto v = r.Take("include"))
    scheduler.include = ParseSelector(*v, r.PathOf("include"), errors);
  if (auto v = r.Take("exclude"))
    scheduler.exclude = ParseSelector(*v, r.PathOf("exclude"), errors);
  if (auto v = r.Take("shard")) scheduler.shard = ParseShard(*v, errors);
  r.Finish();
  return scheduler;
}

std::vector<TableWatch> ParseTables(const YAML::Node& node, Errors& errors) {
  std::vector<TableWatch> tables;
  const auto items = AsList(node, "tables", errors);
  if (!items) return tables;
  for (size_t i = 0; i < items->size(); ++i) {
    MapReader r((*items)[i], Index("tables", i), errors);
    TableWatch watch;
    if (r.Require("connection")) watch.connection = r.String("connection", true).value_or("");
    if (r.Require("schema")) watch.table.schema = r.String("schema", true).value_or("");
    if (r.Require("table")) watch.table.table = r.String("table", true).value_or("");
    r.Finish();
    tables.push_back(std::move(watch));
  }
  return tables;
}

}  // namespace hdm::config_internal
