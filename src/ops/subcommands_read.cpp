// list, get and health.
#include <optional>
#include <ostream>

#include <nlohmann/json.hpp>

#include "app/cli.h"
#include "app/table.h"
#include "ops/resolve.h"
#include "ops/subcommands.h"

namespace hdm::ops {
namespace {

using nlohmann::json;

void PrintJson(const OpsContext& ctx, const json& j) {
  ctx.out << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

json DetailsJson(const hotdata::ConnectionDetails& d) {
  return {{"id", d.id},
          {"name", d.name},
          {"source_type", d.source_type},
          {"table_count", d.table_count},
          {"synced_table_count", d.synced_table_count}};
}

struct HealthRow {
  hotdata::ConnectionInfo info;
  std::optional<hotdata::HealthResponse> answer;
  std::string check_error;  // when no valid answer
};

}  // namespace

int RunList(const OpsContext& ctx, const OpsOptions& o) {
  auto api = ctx.make_api();
  auto list = api->ListConnections();
  if (!list) return Fail(ctx, ApiFailure("list connections", list.error()));
  // Table counts come from get_connection, one per connection, fanned out.
  std::vector<hotdata::ApiResult<hotdata::ConnectionDetails>> details(
      list->size(), std::unexpected(hotdata::ApiError{}));
  ForEachParallel(ctx, list->size(), ctx.config.scheduler.concurrency,
                  [&](hotdata::HotdataApi& client, size_t i) {
                    details[i] = client.GetConnection((*list)[i].id);
                  });
  int exit_code = kExitOk;
  for (size_t i = 0; i < list->size(); ++i) {
    if (!details[i]) {
      ctx.err << "hotdata-monitor: get connection " << (*list)[i].id << ": "
              << details[i].error().ToString() << "\n";
      exit_code = kExitNoAnswer;
    }
  }
  if (o.json) {
    json arr = json::array();
    for (size_t i = 0; i < list->size(); ++i) {
      const auto& c = (*list)[i];
      json e = {{"id", c.id}, {"name", c.name}, {"source_type", c.source_type}};
      e["table_count"] = details[i] ? json(details[i]->table_count) : json(nullptr);
      e["synced_table_count"] = details[i] ? json(details[i]->synced_table_count) : json(nullptr);
      arr.push_back(std::move(e));
    }
    PrintJson(ctx, {{"connections", std::move(arr)}});
    return exit_code;
  }
  std::vector<std::vector<Cell>> rows;
  for (size_t i = 0; i < list->size(); ++i) {
    const auto& c = (*list)[i];
    const bool ok = details[i].has_value();
    rows.push_back({{c.id},
                    {c.name},
                    {c.source_type},
                    {ok ? std::to_string(details[i]->table_count) : "?"},
                    {ok ? std::to_string(details[i]->synced_table_count) : "?"}});
  }
  PrintTable(ctx.out, {"ID", "NAME", "SOURCE", "TABLES", "SYNCED"}, rows, false);
  ctx.out << list->size() << " connection" << (list->size() == 1 ? "" : "s") << "\n";
  return exit_code;
}

int RunGet(const OpsContext& ctx, const OpsOptions& o) {
  auto api = ctx.make_api();
  auto resolved = ResolveAll(*api, o.refs);
  if (!resolved) return Fail(ctx, resolved.error());
  const auto& c = resolved->front();
  auto d = api->GetConnection(c.id);
  if (!d) return Fail(ctx, ApiFailure("get connection " + c.id, d.error()));
  if (o.json) {
    PrintJson(ctx, DetailsJson(*d));
    return kExitOk;
  }
  ctx.out << "id:             " << d->id << "\n"
          << "name:           " << d->name << "\n"
          << "source_type:    " << d->source_type << "\n"
          << "tables:         " << d->table_count << "\n"
          << "synced tables:  " << d->synced_table_count << "\n";
  return kExitOk;
}

int RunHealth(const OpsContext& ctx, const OpsOptions& o) {
  std::vector<hotdata::ConnectionInfo> targets;
  {
    auto api = ctx.make_api();
    if (o.refs.empty()) {
      auto list = api->ListConnections();
      if (!list) return Fail(ctx, ApiFailure("list connections", list.error()));
      targets = std::move(*list);
    } else {
      auto resolved = ResolveAll(*api, o.refs);
      if (!resolved) return Fail(ctx, resolved.error());
      targets = std::move(*resolved);
    }
  }
  std::vector<HealthRow> rows(targets.size());
  const auto started = std::chrono::steady_clock::now();
  ForEachParallel(ctx, targets.size(), ctx.config.scheduler.concurrency,
                  [&](hotdata::HotdataApi& client, size_t i) {
                    rows[i].info = targets[i];
                    auto answer = client.CheckHealth(targets[i].id);
                    if (answer) {
                      rows[i].answer = std::move(*answer);
                    } else {
                      rows[i].check_error = answer.error().ToString();
                    }
                  });
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  bool any_unhealthy = false;
  bool any_failed = false;
  for (const HealthRow& r : rows) {
    if (!r.answer) any_failed = true;
    if (r.answer && !r.answer->healthy) any_unhealthy = true;
  }
  if (o.json) {
    json arr = json::array();
    for (const HealthRow& r : rows) {
      json e = {{"id", r.info.id}, {"name", r.info.name}, {"source_type", r.info.source_type}};
      if (r.answer) {
        e["status"] = r.answer->healthy ? "healthy" : "unhealthy";
        e["healthy"] = r.answer->healthy;
        e["latency_ms"] = r.answer->latency_ms;
        e["error"] = r.answer->error ? json(*r.answer->error) : json(nullptr);
      } else {
        e["status"] = "no_answer";
        e["healthy"] = nullptr;
        e["latency_ms"] = nullptr;
        e["error"] = r.check_error;
      }
      arr.push_back(std::move(e));
    }
    PrintJson(ctx, {{"connections", std::move(arr)}});
  } else {
    std::vector<std::vector<Cell>> table;
    for (const HealthRow& r : rows) {
      Cell status{"NO ANSWER", CellColor::kYellow};
      std::string latency = "-";
      std::string detail = r.check_error;
      if (r.answer) {
        status = r.answer->healthy ? Cell{"healthy", CellColor::kGreen}
                                   : Cell{"UNHEALTHY", CellColor::kRed};
        latency = std::to_string(r.answer->latency_ms) + "ms";
        detail = r.answer->error.value_or("");
      }
      table.push_back(
          {{r.info.name}, {r.info.id}, {r.info.source_type}, status, {latency}, {detail}});
    }
    PrintTable(ctx.out, {"NAME", "ID", "SOURCE", "STATUS", "LATENCY", "ERROR"}, table, ctx.color);
    ctx.out << rows.size() << " connection" << (rows.size() == 1 ? "" : "s") << " checked in "
            << took.count() << "ms\n";
  }
  if (any_unhealthy) return kExitUnhealthy;
  if (any_failed) return kExitNoAnswer;
  return kExitOk;
}

}  // namespace hdm::ops
