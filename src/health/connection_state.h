// What the monitor knows about each connection, and the snapshot that metrics, the status
// endpoint and the policy engine read. Plain values. Every time here is a wall-clock timestamp
// (common/clock.h); what is due or measured lives on the monotonic clock inside the Scheduler.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "hotdata/types.h"

namespace hdm {

struct ConnectionState {
  hotdata::ConnectionInfo info;
  // From get_connection at discovery; absent until it answered once.
  std::optional<int64_t> table_count;
  std::optional<int64_t> synced_table_count;

  // The last valid health answer. `healthy` is absent before the first answer and keeps its
  // value when a later check fails: the API being unreachable is not the connection being down.
  std::optional<bool> healthy;
  std::optional<double> latency_seconds;  // latency_ms the API reported, in seconds
  std::optional<SysTime> last_answer;     // when that answer came
  std::string last_answer_error;          // the health answer's `error` text, if any

  // The last check, valid answer or not.
  bool checked = false;               // at least one check finished
  bool check_success = false;         // it got a valid answer
  double check_duration_seconds = 0;  // round trip as the monitor saw it, retries included
  SysTime last_check{};               // when it finished
  std::string last_check_error;       // why it failed ("" when it succeeded)
  std::string last_check_error_code;  // metric code: "503", "timeout", ...

  int64_t consecutive_failures =
      0;  // unhealthy answers in a row; failed checks neither add nor reset
  std::optional<SysTime> unhealthy_since;  // first unhealthy answer of the current run
  std::optional<SysTime> last_purge;       // last successful purge (set by the policy runner)
  // Retry-After past the interval: not asked before then. A wall-clock time, for the status API
  // only: the scheduler waits on a monotonic copy, which a step of the wall clock leaves alone.
  std::optional<SysTime> not_before;
};

// A table of the config's `tables:` list, resolved to a monitored connection, and its profile.
struct TableState {
  std::string connection_id;
  std::string connection_name;
  std::string schema;
  std::string table;
  bool fetched = false;              // a get_table_profile finished at least once
  bool ok = false;                   // the last one got a valid profile
  std::optional<int64_t> row_count;  // from the last valid profile
  std::optional<SysTime> synced_at;  // absent: never synced, or not reported
  SysTime last_fetch{};
  std::string last_error;
};

// A consistent copy of the scheduler's state at one moment.
struct FleetSnapshot {
  SysTime taken{};
  bool discovered = false;                   // the first discovery succeeded
  std::vector<ConnectionState> connections;  // sorted by id
  std::vector<TableState> tables;            // sorted by connection id, schema, table
  // The last completed health round.
  std::optional<SysTime> last_round_end;
  double last_round_duration_seconds = 0;
  uint64_t rounds_completed = 0;
  uint64_t rounds_overrun = 0;  // a round still running when the next one was due
  uint64_t discoveries = 0;     // discoveries (list_connections) finished, successful or not
  uint64_t discoveries_failed = 0;
  std::optional<SysTime> last_discovery;
  std::string last_discovery_error;
  // The scheduler's config as it runs now (after the last reload).
  double check_interval_seconds = 0;      // scheduler.interval
  double discovery_interval_seconds = 0;  // scheduler.discovery_interval
  int shard_index = 0;                    // scheduler.shard.index
  int shard_count = 1;                    // scheduler.shard.count
};

}  // namespace hdm
