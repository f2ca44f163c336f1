#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hotdata/decode.h"

namespace hdm::hotdata {
namespace {

using nlohmann::json;

json Column(json profile) {
  return {{"name", "status"}, {"data_type", "Utf8"},    {"cardinality", 3},
          {"null_count", 1},  {"null_percentage", 0.5}, {"profile", std::move(profile)}};
}

json Table(json columns) {
  return {{"connection", "prod-pg"},
          {"schema", "public"},
          {"table", "orders"},
          {"row_count", 200},
          {"synced_at", "2024-05-01T03:00:00Z"},
          {"columns", std::move(columns)}};
}

Decoded<TableProfile> DecodeWithProfile(json profile) {
  return DecodeTableProfile(Table(json::array({Column(std::move(profile))})).dump());
}

TEST(DecodeTableProfileTest, DecodesTableFields) {
  json body = Table(json::array());
  body["unknown"] = {{"x", 1}};
  auto r = DecodeTableProfile(body.dump());
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->connection, "prod-pg");
  EXPECT_EQ(r->schema, "public");
  EXPECT_EQ(r->table, "orders");
  EXPECT_EQ(r->row_count, 200);
  EXPECT_EQ(r->synced_at, "2024-05-01T03:00:00Z");
  EXPECT_TRUE(r->columns.empty());
}

TEST(DecodeTableProfileTest, SyncedAtIsOptional) {
  json body = Table(json::array());
  body.erase("synced_at");
  auto r = DecodeTableProfile(body.dump());
  ASSERT_TRUE(r) << r.error();
  EXPECT_FALSE(r->synced_at);
  body["synced_at"] = nullptr;
  EXPECT_TRUE(DecodeTableProfile(body.dump()));
}

TEST(DecodeTableProfileTest, EachRequiredFieldMissingIsAnError) {
  for (const char* key : {"connection", "schema", "table", "row_count", "columns"}) {
    json body = Table(json::array());
    body.erase(key);
    auto r = DecodeTableProfile(body.dump());
    ASSERT_FALSE(r) << key;
    EXPECT_EQ(r.error(), std::string(key) + ": missing");
  }
  for (const char* key : {"name", "data_type", "cardinality", "null_count", "null_percentage"}) {
    json column = Column(nullptr);
    column.erase(key);
    auto r = DecodeTableProfile(Table(json::array({column})).dump());
    ASSERT_FALSE(r) << key;
    EXPECT_EQ(r.error(), std::string("columns[0].") + key + ": missing");
  }
}

TEST(DecodeTableProfileTest, NullOrAbsentProfileIsNullopt) {
  auto r = DecodeWithProfile(nullptr);
  ASSERT_TRUE(r) << r.error();
  ASSERT_EQ(r->columns.size(), 1u);
  EXPECT_EQ(r->columns[0].name, "status");
  EXPECT_EQ(r->columns[0].null_percentage, 0.5);
  EXPECT_FALSE(r->columns[0].profile);

  json column = Column(nullptr);
  column.erase("profile");
  auto absent = DecodeTableProfile(Table(json::array({column})).dump());
  ASSERT_TRUE(absent) << absent.error();
  EXPECT_FALSE(absent->columns[0].profile);
}

TEST(DecodeTableProfileTest, Categorical) {
  auto r = DecodeWithProfile(
      {{"type", "categorical"},
       {"values", {{{"value", "paid"}, {"count", 150}}, {{"value", nullptr}, {"count", 1}}}}});
  ASSERT_TRUE(r) << r.error();
  const auto& p = std::get<CategoricalProfile>(*r->columns[0].profile);
  ASSERT_EQ(p.values.size(), 2u);
  EXPECT_EQ(p.values[0].value, "paid");
  EXPECT_EQ(p.values[0].count, 150);
  EXPECT_FALSE(p.values[1].value);
}

TEST(DecodeTableProfileTest, Text) {
  auto r = DecodeWithProfile(
      {{"type", "text"}, {"min_length", 1}, {"max_length", 40}, {"avg_length", 7.25}});
  ASSERT_TRUE(r) << r.error();
  const auto& p = std::get<TextProfile>(*r->columns[0].profile);
  EXPECT_EQ(p.min_length, 1);
  EXPECT_EQ(p.max_length, 40);
  EXPECT_DOUBLE_EQ(p.avg_length, 7.25);
}

TEST(DecodeTableProfileTest, NumericKeepsMinAndMaxAsStrings) {
  auto r = DecodeWithProfile(
      {{"type", "numeric"}, {"min", "-12345678901234567890.5"}, {"max", "99.99"}, {"mean", 3}});
  ASSERT_TRUE(r) << r.error();
  const auto& p = std::get<NumericProfile>(*r->columns[0].profile);
  EXPECT_EQ(p.min, "-12345678901234567890.5");
  EXPECT_EQ(p.max, "99.99");
  EXPECT_DOUBLE_EQ(p.mean, 3.0);
}

TEST(DecodeTableProfileTest, Temporal) {
  auto r = DecodeWithProfile(
      {{"type", "temporal"}, {"min", "2020-01-01T00:00:00Z"}, {"max", "2024-05-01T00:00:00Z"}});
  ASSERT_TRUE(r) << r.error();
  const auto& p = std::get<TemporalProfile>(*r->columns[0].profile);
  EXPECT_EQ(p.min, "2020-01-01T00:00:00Z");
  EXPECT_EQ(p.max, "2024-05-01T00:00:00Z");
}

TEST(DecodeTableProfileTest, Boolean) {
  auto r = DecodeWithProfile({{"type", "boolean"}, {"true_count", 7}, {"false_count", 3}});
  ASSERT_TRUE(r) << r.error();
  const auto& p = std::get<BooleanProfile>(*r->columns[0].profile);
  EXPECT_EQ(p.true_count, 7);
  EXPECT_EQ(p.false_count, 3);
}

TEST(DecodeTableProfileTest, UnknownTypeIsKeptByName) {
  auto r = DecodeWithProfile({{"type", "geospatial"}, {"bbox", {1, 2, 3, 4}}});
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(std::get<UnknownProfile>(*r->columns[0].profile).type, "geospatial");
}

TEST(DecodeTableProfileTest, VariantErrorsNameTheFieldPath) {
  const std::pair<json, std::string> table[] = {
      {{{"values", json::array()}}, "columns[0].profile.type: missing"},
      {{{"type", 3}}, "columns[0].profile.type: expected string, got integer 3"},
      {"categorical", "columns[0].profile: expected object, got string"},
      {{{"type", "categorical"}}, "columns[0].profile.values: missing"},
      {{{"type", "categorical"}, {"values", {{{"value", "a"}}}}},
       "columns[0].profile.values[0].count: missing"},
      {{{"type", "categorical"}, {"values", {{{"value", 1}, {"count", 1}}}}},
       "columns[0].profile.values[0].value: expected string or null, got integer 1"},
      {{{"type", "text"}, {"min_length", 1}, {"max_length", 2}},
       "columns[0].profile.avg_length: missing"},
      {{{"type", "numeric"}, {"min", 1}, {"max", "2"}, {"mean", 1.5}},
       "columns[0].profile.min: expected string, got integer 1"},
      {{{"type", "temporal"}, {"min", "2020-01-01T00:00:00Z"}}, "columns[0].profile.max: missing"},
      {{{"type", "boolean"}, {"true_count", 1}, {"false_count", "2"}},
       "columns[0].profile.false_count: expected integer, got string"},
  };
  for (const auto& [profile, message] : table) {
    auto r = DecodeWithProfile(profile);
    ASSERT_FALSE(r) << profile.dump();
    EXPECT_EQ(r.error(), message) << profile.dump();
  }
}

TEST(DecodeTableProfileTest, TruncatedBodyIsAnError) {
  const std::string body =
      Table(json::array({Column({{"type", "boolean"}, {"true_count", 1}, {"false_count", 2}})}))
          .dump();
  for (size_t cut : {size_t{1}, body.size() / 2, body.size() - 1}) {
    auto r = DecodeTableProfile(body.substr(0, cut));
    ASSERT_FALSE(r) << cut;
    EXPECT_TRUE(r.error().starts_with("body: not valid JSON: ")) << r.error();
  }
}

}  // namespace
}  // namespace hdm::hotdata
