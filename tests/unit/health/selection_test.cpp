#include "health/selection.h"

#include <gtest/gtest.h>

namespace hdm {
namespace {

hotdata::ConnectionInfo Conn(std::string id, std::string name, std::string type) {
  return {std::move(id), std::move(name), std::move(type)};
}

TEST(GlobTest, MatchesShellPatterns) {
  EXPECT_TRUE(GlobMatch("prod-*", "prod-pg"));
  EXPECT_FALSE(GlobMatch("prod-*", "staging-pg"));
  EXPECT_TRUE(GlobMatch("*-scratch", "x-scratch"));
  EXPECT_TRUE(GlobMatch("db?", "db1"));
  EXPECT_FALSE(GlobMatch("db?", "db12"));
  EXPECT_TRUE(GlobMatch("[ab]*", "beta"));
  EXPECT_TRUE(GlobMatch("exact", "exact"));
  EXPECT_FALSE(GlobMatch("Exact", "exact"));
}

TEST(SelectorTest, EveryGivenFieldMustMatchAnyOfItsGlobs) {
  Selector s{.name = {"prod-*", "main"}, .source_type = {"postgres"}};
  EXPECT_TRUE(SelectorMatches(s, Conn("c1", "prod-a", "postgres")));
  EXPECT_TRUE(SelectorMatches(s, Conn("c1", "main", "postgres")));
  EXPECT_FALSE(SelectorMatches(s, Conn("c1", "prod-a", "mysql")));
  EXPECT_FALSE(SelectorMatches(s, Conn("c1", "dev", "postgres")));
  EXPECT_TRUE(SelectorMatches(Selector{}, Conn("c1", "anything", "x")));
}

TEST(SelectionTest, IncludeThenExclude) {
  SchedulerConfig c;
  c.include = Selector{.name = {"prod-*"}};
  c.exclude = Selector{.name = {"*-scratch"}};
  EXPECT_TRUE(IsSelected(c, Conn("1", "prod-pg", "postgres")));
  EXPECT_FALSE(IsSelected(c, Conn("2", "prod-scratch", "postgres")));
  EXPECT_FALSE(IsSelected(c, Conn("3", "dev-pg", "postgres")));
}

TEST(SelectionTest, ExcludeNeedsEveryGivenField) {
  SchedulerConfig c;
  c.exclude = Selector{.name = {"*-scratch"}, .source_type = {"duckdb"}};
  EXPECT_FALSE(IsSelected(c, Conn("1", "a-scratch", "duckdb")));
  EXPECT_TRUE(IsSelected(c, Conn("2", "a-scratch", "postgres")));
}

TEST(ShardTest, HashIsStableAndShardsPartitionTheFleet) {
  EXPECT_EQ(ShardHash(""), 14695981039346656037ull);
  EXPECT_EQ(ShardHash("a"), 0xaf63dc4c8601ec8cull);  // FNV-1a 64 reference value
  SchedulerConfig c;
  c.shard.count = 3;
  int total = 0;
  for (int i = 0; i < 300; ++i) {
    int owners = 0;
    for (int s = 0; s < 3; ++s) {
      c.shard.index = s;
      owners += IsSelected(c, Conn("conn_" + std::to_string(i), "n", "t")) ? 1 : 0;
    }
    EXPECT_EQ(owners, 1);
    total += owners;
  }
  EXPECT_EQ(total, 300);
}

}  // namespace
}  // namespace hdm
