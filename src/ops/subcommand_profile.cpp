// profile: a table's row count, last sync and per-column statistics.
#include <cstdio>
#include <ostream>
#include <variant>

#include <nlohmann/json.hpp>

#include "app/cli.h"
#include "app/table.h"
#include "ops/resolve.h"
#include "ops/subcommands.h"

namespace hdm::ops {
namespace {

using nlohmann::json;

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

constexpr size_t kCategoriesShown = 5;

std::string StatsText(const hotdata::ColumnStats& stats) {
  return std::visit(
      [](const auto& s) -> std::string {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, hotdata::CategoricalProfile>) {
          std::string text = "top:";
          for (size_t i = 0; i < s.values.size() && i < kCategoriesShown; ++i) {
            text += (i == 0 ? " " : ", ") + s.values[i].value.value_or("(null)") + " (" +
                    std::to_string(s.values[i].count) + ")";
          }
          if (s.values.size() > kCategoriesShown) {
            text += ", +" + std::to_string(s.values.size() - kCategoriesShown) + " more";
          }
          return text;
        } else if constexpr (std::is_same_v<T, hotdata::TextProfile>) {
          return "length " + std::to_string(s.min_length) + ".." + std::to_string(s.max_length) +
                 ", avg " + Number(s.avg_length);
        } else if constexpr (std::is_same_v<T, hotdata::NumericProfile>) {
          return "min " + s.min + ", max " + s.max + ", mean " + Number(s.mean);
        } else if constexpr (std::is_same_v<T, hotdata::TemporalProfile>) {
          return "from " + s.min + " to " + s.max;
        } else if constexpr (std::is_same_v<T, hotdata::BooleanProfile>) {
          return "true " + std::to_string(s.true_count) + ", false " +
                 std::to_string(s.false_count);
        } else {
          return "(" + s.type + " profile)";
        }
      },
      stats);
}

json StatsJson(const hotdata::ColumnStats& stats) {
  return std::visit(
      [](const auto& s) -> json {
        using T = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<T, hotdata::CategoricalProfile>) {
          json values = json::array();
          for (const auto& v : s.values) {
            values.push_back(
                {{"value", v.value ? json(*v.value) : json(nullptr)}, {"count", v.count}});
          }
          return {{"type", "categorical"}, {"values", std::move(values)}};
        } else if constexpr (std::is_same_v<T, hotdata::TextProfile>) {
          return {{"type", "text"},
                  {"min_length", s.min_length},
                  {"max_length", s.max_length},
                  {"avg_length", s.avg_length}};
        } else if constexpr (std::is_same_v<T, hotdata::NumericProfile>) {
          return {{"type", "numeric"}, {"min", s.min}, {"max", s.max}, {"mean", s.mean}};
        } else if constexpr (std::is_same_v<T, hotdata::TemporalProfile>) {
          return {{"type", "temporal"}, {"min", s.min}, {"max", s.max}};
        } else if constexpr (std::is_same_v<T, hotdata::BooleanProfile>) {
          return {
              {"type", "boolean"}, {"true_count", s.true_count}, {"false_count", s.false_count}};
        } else {
          return {{"type", s.type}};
        }
      },
      stats);
}

json ProfileJson(const hotdata::TableProfile& p) {
  json columns = json::array();
  for (const auto& c : p.columns) {
    columns.push_back({{"name", c.name},
                       {"data_type", c.data_type},
                       {"cardinality", c.cardinality},
                       {"null_count", c.null_count},
                       {"null_percentage", c.null_percentage},
                       {"profile", c.profile ? StatsJson(*c.profile) : json(nullptr)}});
  }
  return {{"connection", p.connection},
          {"schema", p.schema},
          {"table", p.table},
          {"row_count", p.row_count},
          {"synced_at", p.synced_at ? json(*p.synced_at) : json(nullptr)},
          {"columns", std::move(columns)}};
}

}  // namespace

int RunProfile(const OpsContext& ctx, const OpsOptions& o) {
  const std::string& spec = *o.table;  // validated by the parser: has an inner dot
  const size_t dot = spec.find('.');
  const std::string schema = spec.substr(0, dot);
  const std::string table = spec.substr(dot + 1);
  auto api = ctx.make_api();
  auto resolved = ResolveAll(*api, o.refs);
  if (!resolved) return Fail(ctx, resolved.error());
  const auto& c = resolved->front();
  auto p = api->GetTableProfile(c.id, schema, table);
  if (!p) return Fail(ctx, ApiFailure("get table profile " + c.id + " " + spec, p.error()));
  if (o.json) {
    ctx.out << ProfileJson(*p).dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  ctx.out << "table:      " << p->schema << "." << p->table << " of " << c.name << " (" << c.id
          << ")\n"
          << "rows:       " << p->row_count << "\n"
          << "synced at:  " << p->synced_at.value_or("never") << "\n"
          << "columns:    " << p->columns.size() << "\n\n";
  std::vector<std::vector<Cell>> rows;
  for (const auto& col : p->columns) {
    rows.push_back({{col.name},
                    {col.data_type},
                    {std::to_string(col.null_count) + " (" + Number(col.null_percentage) + "%)"},
                    {std::to_string(col.cardinality)},
                    {col.profile ? StatsText(*col.profile) : "-"}});
  }
  PrintTable(ctx.out, {"COLUMN", "TYPE", "NULLS", "DISTINCT", "PROFILE"}, rows, false);
  return kExitOk;
}

}  // namespace hdm::ops
