#include "ops/config_file.h"

#include <gtest/gtest.h>

namespace hdm::ops {
namespace {

using nlohmann::json;

TEST(ConnectionConfigTest, YamlScalarsAreTypedUnlessQuoted) {
  auto j = YamlToJson(
      "host: db\nport: 5432\nratio: 0.5\nssl: true\nnone: ~\nzip: \"0042\"\n"
      "list: [1, two, false]\nnested: { a: { b: -3 } }\n",
      "c.yaml");
  ASSERT_TRUE(j.has_value()) << j.error();
  EXPECT_EQ(*j, json::parse(R"({"host":"db","port":5432,"ratio":0.5,"ssl":true,"none":null,
      "zip":"0042","list":[1,"two",false],"nested":{"a":{"b":-3}}})"));
}

TEST(ConnectionConfigTest, SyntaxErrorsNameFileLineAndColumn) {
  auto j = YamlToJson("a: 1\nb: [unclosed\n", "c.yaml");
  ASSERT_FALSE(j.has_value());
  EXPECT_TRUE(j.error().starts_with("c.yaml:3:1:")) << j.error();
  auto f = LoadConnectionConfig("/nonexistent/c.json");
  ASSERT_FALSE(f.has_value());
  EXPECT_NE(f.error().find("cannot read"), std::string::npos) << f.error();
  f = LoadConnectionConfig("c.toml");
  ASSERT_FALSE(f.has_value());
  EXPECT_NE(f.error().find("expected a .json, .yaml or .yml file"), std::string::npos);
}

}  // namespace
}  // namespace hdm::ops
