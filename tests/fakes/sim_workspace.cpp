#include "fakes/sim_workspace.h"

#include <array>
#include <cstdio>
#include <ctime>
#include <string>

namespace hdm::fake {
namespace {

using nlohmann::json;
using std::chrono::system_clock;

struct Kind {
  const char* prefix;
  const char* source_type;
};
constexpr std::array<Kind, 12> kKinds = {{
    {"prod-pg", "postgres"},
    {"prod-mysql", "mysql"},
    {"analytics-snowflake", "snowflake"},
    {"marketing-bigquery", "bigquery"},
    {"hotdata-managed", "managed"},
    {"local-duckdb", "duckdb"},
    {"lake-iceberg", "iceberg"},
    {"lake-ducklake", "ducklake"},
    {"staging-pg", "postgres"},
    {"billing-mysql", "mysql"},
    {"finance-snowflake", "snowflake"},
    {"events-bigquery", "bigquery"},
}};

std::string Rfc3339(system_clock::time_point t) {
  std::time_t secs = system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int64_t Uniform(std::mt19937& rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

json Columns(std::mt19937& rng, int64_t rows) {
  const int64_t nulls = Uniform(rng, 0, rows / 20);
  const double null_pct = rows ? 100.0 * static_cast<double>(nulls) / static_cast<double>(rows) : 0;
  return json::array({
      {{"name", "id"},
       {"data_type", "Int64"},
       {"cardinality", rows},
       {"null_count", 0},
       {"null_percentage", 0.0},
       {"profile",
        {{"type", "numeric"}, {"min", "1"}, {"max", std::to_string(rows)}, {"mean", rows / 2.0}}}},
      {{"name", "status"},
       {"data_type", "Utf8"},
       {"cardinality", 3},
       {"null_count", nulls},
       {"null_percentage", null_pct},
       {"profile",
        {{"type", "categorical"},
         {"values", json::array({{{"value", "shipped"}, {"count", rows - nulls - rows / 4}},
                                 {{"value", "pending"}, {"count", rows / 4}},
                                 {{"value", nullptr}, {"count", nulls}}})}}}},
      {{"name", "note"},
       {"data_type", "Utf8"},
       {"cardinality", rows / 3},
       {"null_count", 0},
       {"null_percentage", 0.0},
       {"profile",
        {{"type", "text"}, {"min_length", 0}, {"max_length", 240}, {"avg_length", 37.5}}}},
      {{"name", "created_at"},
       {"data_type", "Timestamp(Microsecond, None)"},
       {"cardinality", rows},
       {"null_count", 0},
       {"null_percentage", 0.0},
       {"profile",
        {{"type", "temporal"}, {"min", "2021-01-04T08:00:00Z"}, {"max", "2025-06-30T23:59:59Z"}}}},
      {{"name", "is_gift"},
       {"data_type", "Boolean"},
       {"cardinality", 2},
       {"null_count", 0},
       {"null_percentage", 0.0},
       {"profile",
        {{"type", "boolean"}, {"true_count", rows / 10}, {"false_count", rows - rows / 10}}}},
      {{"name", "legacy_code"},
       {"data_type", "Utf8"},
       {"cardinality", 0},
       {"null_count", rows},
       {"null_percentage", 100.0},
       {"profile", nullptr}},
  });
}

// A few tables per connection, with one stale sync on every third connection and one table
// that was never synced on every other one.
std::vector<FakeTable> Tables(std::mt19937& rng, int index, system_clock::time_point now) {
  std::vector<FakeTable> tables;
  auto add = [&](const char* schema, const char* table, std::optional<std::string> synced_at) {
    const int64_t rows = Uniform(rng, 1'000, 2'000'000);
    tables.push_back({schema, table, rows, std::move(synced_at), Columns(rng, rows), true});
  };
  using std::chrono::hours;
  using std::chrono::minutes;
  add("public", "orders", Rfc3339(now - minutes(Uniform(rng, 1, 30))));
  add("public", "customers",
      Rfc3339(now -
              (index % 3 == 0 ? hours(Uniform(rng, 50, 120)) : minutes(Uniform(rng, 5, 90)))));
  add("eu.sales", "Order Items", Rfc3339(now - minutes(Uniform(rng, 10, 240))));
  if (index % 2 == 0) add("raw", "events/2024", std::nullopt);
  return tables;
}

}  // namespace

std::vector<FakeConnection> BuildWorkspace(const SimOptions& options) {
  std::mt19937 rng(options.seed);
  const auto now = system_clock::now();
  std::vector<FakeConnection> out;
  for (int i = 1; i <= options.connections; ++i) {
    const Kind& kind = kKinds[(i - 1) % kKinds.size()];
    char id[32], name[96];
    std::snprintf(id, sizeof id, "conn_%04d", i);
    std::snprintf(name, sizeof name, "%s-%02d", kind.prefix, i);
    FakeConnection c;
    c.id = id;
    c.name = name;
    if (auto it = options.names.find(c.id); it != options.names.end()) c.name = it->second;
    c.source_type = kind.source_type;
    c.tables = Tables(rng, i, now);
    c.table_count = static_cast<int64_t>(c.tables.size());
    for (const FakeTable& t : c.tables) c.synced_table_count += t.synced_at ? 1 : 0;
    c.backs_default_catalog = i == kDefaultCatalogIndex;
    c.health_delay = options.latency;
    c.latency_ms = options.latency.count() + Uniform(rng, 5, 40);
    if (options.evolve && i == kSlowIndex) {
      c.health_delay += std::chrono::milliseconds(300);
      c.latency_ms = options.latency.count() + 2500;
    }
    if (options.evolve && i == kRecoveringIndex) {
      c.healthy = false;
      c.latency_ms = 10'000;
      c.error = "timed out connecting to the source database (simulated outage)";
    }
    out.push_back(std::move(c));
  }
  return out;
}

SimEvolution::SimEvolution(FakeHotdataServer& server, const SimOptions& options)
    : server_(server), options_(options), rng_(options.seed ^ 0x5eed) {}

void SimEvolution::Tick(std::chrono::seconds elapsed) {
  if (!options_.evolve) return;
  const int64_t t = elapsed.count();
  const int64_t base = options_.latency.count();
  char id[32];
  std::lock_guard lock(mu_);
  for (int i = 1; i <= options_.connections; ++i) {
    std::snprintf(id, sizeof id, "conn_%04d", i);
    if (overridden_.contains(id)) continue;
    const int64_t jitter = base + Uniform(rng_, 5, 40);
    if (i == kFlappingIndex && t % 60 >= 10 && t % 60 < 30) {
      server_.SetHealth(id, false, jitter, "connection refused (simulated flap)");
    } else if (i == kSlowIndex) {
      server_.SetHealth(id, true, base + Uniform(rng_, 2300, 2700));
    } else if (i == kRecoveringIndex && t < 30) {
      server_.SetHealth(id, false, 10'000,
                        "timed out connecting to the source database (simulated outage)");
    } else {
      server_.SetHealth(id, true, jitter);
    }
  }
}

bool SimEvolution::Override(const std::string& id, bool healthy, std::optional<std::string> error) {
  std::lock_guard lock(mu_);
  const auto current = server_.Get(id);
  if (!current) return false;
  overridden_.insert(id);
  server_.SetHealth(id, healthy, current->latency_ms, std::move(error));
  return true;
}

}  // namespace hdm::fake
