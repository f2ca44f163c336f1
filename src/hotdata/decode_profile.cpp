// DecodeTableProfile: the TableProfileResponse with its column profiles, whose `profile` object
// is a variant chosen by its `type` field.
#include "hotdata/decode.h"
#include "hotdata/json_reader.h"

namespace hdm::hotdata {

using detail::json;

namespace {

CategoricalProfile ReadCategorical(const json& p, const std::string& path) {
  CategoricalProfile out;
  const json& values = detail::RequireArray(p, "values", path);
  const std::string values_path = detail::FieldPath(path, "values");
  out.values.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string item_path = detail::IndexPath(values_path, i);
    detail::ExpectObject(values[i], item_path);
    CategoricalValue v;
    v.value = detail::OptionalString(values[i], "value", item_path);  // null: the null value
    v.count = detail::RequireInt(values[i], "count", item_path);
    out.values.push_back(std::move(v));
  }
  return out;
}

ColumnStats ReadStats(const json& p, const std::string& path) {
  detail::ExpectObject(p, path);
  const std::string type = detail::RequireString(p, "type", path);
  if (type == "categorical") return ReadCategorical(p, path);
  if (type == "text") {
    return TextProfile{.min_length = detail::RequireInt(p, "min_length", path),
                       .max_length = detail::RequireInt(p, "max_length", path),
                       .avg_length = detail::RequireNumber(p, "avg_length", path)};
  }
  if (type == "numeric") {
    return NumericProfile{.min = detail::RequireString(p, "min", path),
                          .max = detail::RequireString(p, "max", path),
                          .mean = detail::RequireNumber(p, "mean", path)};
  }
  if (type == "temporal") {
    return TemporalProfile{.min = detail::RequireString(p, "min", path),
                           .max = detail::RequireString(p, "max", path)};
  }
  if (type == "boolean") {
    return BooleanProfile{.true_count = detail::RequireInt(p, "true_count", path),
                          .false_count = detail::RequireInt(p, "false_count", path)};
  }
  return UnknownProfile{.type = type};
}

ColumnProfile ReadColumn(const json& c, const std::string& path) {
  detail::ExpectObject(c, path);
  ColumnProfile col;
  col.name = detail::RequireString(c, "name", path);
  col.data_type = detail::RequireString(c, "data_type", path);
  col.cardinality = detail::RequireInt(c, "cardinality", path);
  col.null_count = detail::RequireInt(c, "null_count", path);
  col.null_percentage = detail::RequireNumber(c, "null_percentage", path);
  if (const json* p = detail::Find(c, "profile"); p != nullptr && !p->is_null()) {
    col.profile = ReadStats(*p, detail::FieldPath(path, "profile"));
  }
  return col;
}

}  // namespace

Decoded<TableProfile> DecodeTableProfile(std::string_view body) {
  return detail::DecodeBody<TableProfile>(body, [](const json& root) {
    detail::ExpectObject(root, "");
    TableProfile t;
    t.connection = detail::RequireString(root, "connection", "");
    t.schema = detail::RequireString(root, "schema", "");
    t.table = detail::RequireString(root, "table", "");
    t.row_count = detail::RequireInt(root, "row_count", "");
    t.synced_at = detail::OptionalString(root, "synced_at", "");
    const json& columns = detail::RequireArray(root, "columns", "");
    t.columns.reserve(columns.size());
    for (size_t i = 0; i < columns.size(); ++i) {
      t.columns.push_back(ReadColumn(columns[i], detail::IndexPath("columns", i)));
    }
    return t;
  });
}

}  // namespace hdm::hotdata
