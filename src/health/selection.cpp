#include "health/selection.h"

#include <fnmatch.h>

#include <string>

namespace hdm {
namespace {

bool AnyGlobMatches(const std::vector<std::string>& globs, const std::string& text) {
  for (const auto& g : globs) {
    if (GlobMatch(g, text)) return true;
  }
  return false;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // fnmatch needs NUL-terminated strings; names are short.
  return fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), 0) == 0;
}

bool SelectorMatches(const Selector& selector, const hotdata::ConnectionInfo& c) {
  if (!selector.name.empty() && !AnyGlobMatches(selector.name, c.name)) return false;
  if (!selector.id.empty() && !AnyGlobMatches(selector.id, c.id)) return false;
  if (!selector.source_type.empty() && !AnyGlobMatches(selector.source_type, c.source_type)) {
    return false;
  }
  return true;
}

bool IsSelected(const SchedulerConfig& config, const hotdata::ConnectionInfo& c) {
  if (config.include && !SelectorMatches(*config.include, c)) return false;
  if (config.exclude && !config.exclude->Empty() && SelectorMatches(*config.exclude, c)) {
    return false;
  }
  if (config.shard.count > 1 && ShardHash(c.id) % static_cast<uint64_t>(config.shard.count) !=
                                    static_cast<uint64_t>(config.shard.index)) {
    return false;
  }
  return true;
}

uint64_t ShardHash(std::string_view connection_id) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char ch : connection_id) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace hdm
