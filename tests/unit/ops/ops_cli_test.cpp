#include "ops/ops_cli.h"

#include <gtest/gtest.h>

namespace hdm::ops {
namespace {

constexpr char kDefault[] = "/etc/hotdata-monitor/config.yaml";

std::expected<OpsOptions, std::string> Parse(std::vector<std::string> args) {
  return ParseOpsArgs(args, kDefault);
}

TEST(OpsCliTest, SubcommandsRefsAndFlags) {
  auto o = Parse({"purge", "prod-pg", "--table=public.orders", "--yes", "--config", "/c.yaml"});
  ASSERT_TRUE(o.has_value()) << o.error();
  EXPECT_EQ(o->command, Subcommand::kPurge);
  EXPECT_EQ(o->refs, std::vector<std::string>{"prod-pg"});
  EXPECT_EQ(o->table, "public.orders");
  EXPECT_TRUE(o->yes);
  EXPECT_FALSE(o->force);
  EXPECT_EQ(o->config_path, "/c.yaml");

  o = Parse({"health"});
  ASSERT_TRUE(o.has_value());
  EXPECT_TRUE(o->refs.empty());
  EXPECT_EQ(o->config_path, kDefault);
  o = Parse({"--output", "json", "health", "a", "b"});
  ASSERT_TRUE(o.has_value());
  EXPECT_TRUE(o->json);
  EXPECT_EQ(o->refs.size(), 2u);

  o = Parse({"profile", "c1", "eu.sales.Order Items"});
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->refs, std::vector<std::string>{"c1"});
  EXPECT_EQ(o->table, "eu.sales.Order Items");
}

TEST(OpsCliTest, CreateTakesConfigAsTheConnectionsFile) {
  auto o = Parse({"create", "--name", "n", "--source-type", "postgres", "--config", "c.yaml",
                  "--secret-name", "s", "--skip-discovery"});
  ASSERT_TRUE(o.has_value()) << o.error();
  EXPECT_EQ(o->connection_config_path, "c.yaml");
  EXPECT_EQ(o->config_path, kDefault) << "the monitor's config comes before `connections`";
  EXPECT_EQ(o->secret_name, "s");
  EXPECT_TRUE(o->skip_discovery);
}

TEST(OpsCliTest, UsageErrors) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "a subcommand is missing"},
      {{"frob"}, "unknown subcommand \"frob\""},
      {{"list", "x"}, "unexpected argument \"x\""},
      {{"get"}, "expected exactly one ID|NAME"},
      {{"get", "a", "b"}, "expected exactly one ID|NAME"},
      {{"profile", "a"}, "expected ID|NAME SCHEMA.TABLE"},
      {{"profile", "a", "orders"}, "expected a table as SCHEMA.TABLE"},
      {{"purge", "a", "--table", "x."}, "expected a table as SCHEMA.TABLE"},
      {{"purge", "a", "--output", "json"}, "connections purge: unknown flag \"--output\""},
      {{"delete", "a", "--force"}, "unknown flag \"--force\""},
      {{"list", "--output", "xml"}, "expected table or json"},
      {{"list", "--output"}, "--output needs a value"},
      {{"purge", "a", "--yes=1"}, "--yes takes no value"},
      {{"create", "--source-type", "t", "--config", "c.json"}, "--name is required"},
      {{"create", "--name", "n", "--config", "c.json"}, "--source-type is required"},
      {{"create", "--name", "n", "--source-type", "t"}, "--config FILE.(json|yaml) is required"},
      {{"create", "--name", "n", "--source-type", "t", "--config", "c.json", "--secret-id", "a",
        "--secret-name", "b"},
       "exclude each other"},
  };
  for (const auto& [args, message] : cases) {
    auto o = Parse(args);
    ASSERT_FALSE(o.has_value()) << message;
    EXPECT_NE(o.error().find(message), std::string::npos) << o.error();
  }
}

TEST(OpsCliTest, HelpAnywhere) {
  EXPECT_TRUE(Parse({"--help"})->help);
  EXPECT_TRUE(Parse({"purge", "-h"})->help);
  EXPECT_NE(OpsUsageText().find("Exit codes"), std::string::npos);
}

}  // namespace
}  // namespace hdm::ops
