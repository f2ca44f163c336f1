// Which connections this monitor instance watches: include/exclude globs and the shard hash.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "config/config.h"
#include "hotdata/types.h"

namespace hdm {

// Shell-style glob ('*', '?', '[...]') over the whole string; case-sensitive.
bool GlobMatch(std::string_view pattern, std::string_view text);

// True when every field the selector gives has at least one glob matching the connection.
// An empty selector matches everything.
bool SelectorMatches(const Selector& selector, const hotdata::ConnectionInfo& c);

// Kept when it matches `include` (absent: everything) and does not match `exclude`
// (absent: nothing), and its id falls in this shard.
bool IsSelected(const SchedulerConfig& config, const hotdata::ConnectionInfo& c);

// Stable across runs, machines and versions: FNV-1a 64 of the connection id.
uint64_t ShardHash(std::string_view connection_id);

}  // namespace hdm
