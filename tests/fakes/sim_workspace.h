// The simulated workspace of hotdata-simulator: a fixed set of connections with tables and
// profiles, and a script of how their health evolves over time (a flapping connection, a slow
// one, one that is down at start and recovers after about 30 s, the rest healthy with jitter).
//
// Not thread-safe: one thread builds the workspace and ticks the evolution.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

#include "fakes/fake_hotdata.h"

namespace hdm::fake {

struct SimOptions {
  int connections = 12;
  uint32_t seed = 1;
  std::chrono::milliseconds latency{0};  // health_delay of every connection, added to latency_ms
  bool evolve = true;                    // false: all healthy, nothing changes (benchmarks)
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

 private:
  FakeHotdataServer& server_;
  const SimOptions options_;
  std::mt19937 rng_;
};

}  // namespace hdm::fake
