// The simulated workspace of hotdata-simulator: a fixed set of connections with tables and
// profiles, and a script of how their health evolves over time (a flapping connection, a slow
// one, one that is down at start and recovers after about 30 s, the rest healthy with jitter).
//
// BuildWorkspace and Tick run on one thread; Override may be called from another.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fakes/fake_hotdata.h"

namespace hdm::fake {

struct SimOptions {
  int connections = 12;
  uint32_t seed = 1;
  std::chrono::milliseconds latency{0};  // health_delay of every connection, added to latency_ms
  bool evolve = true;                    // false: all healthy, nothing changes (benchmarks)
  std::map<std::string, std::string> names;  // connection id -> name, instead of the generated one
};

// The connections' positions (1-based, as in their names) that have a scripted behaviour.
inline constexpr int kFlappingIndex = 2;        // unhealthy 20 s of every 60 s, from t = 10 s
inline constexpr int kSlowIndex = 3;            // ~2500 ms reported, answers 300 ms late
inline constexpr int kRecoveringIndex = 4;      // down until t = 30 s, then healthy
inline constexpr int kManagedIndex = 5;         // source_type "managed": purges answer 400
inline constexpr int kDefaultCatalogIndex = 7;  // backs the default catalog: 409s

// Connection ids are conn_0001, conn_0002, ...; names like prod-pg-01, prod-mysql-02.
std::vector<FakeConnection> BuildWorkspace(const SimOptions& options);

// Applies the health script to the connections of BuildWorkspace() on `server`.
class SimEvolution {
 public:
  SimEvolution(FakeHotdataServer& server, const SimOptions& options);

  // Sets every connection's health as of `elapsed` since the simulator started; call it about
  // once a second. A no-op when options.evolve is false.
  void Tick(std::chrono::seconds elapsed);
  // Sets connection `id`'s health now and takes it out of the script: later ticks leave it as
  // set (the simulator's --control-stdin). False when there is no such connection. Thread-safe.
  bool Override(const std::string& id, bool healthy, std::optional<std::string> error);

 private:
  FakeHotdataServer& server_;
  const SimOptions options_;
  std::mt19937 rng_;
  std::mutex mu_;  // held through Tick and Override, so that a tick never undoes an override
  std::set<std::string> overridden_;  // Guarded by mu_.
};

}  // namespace hdm::fake
