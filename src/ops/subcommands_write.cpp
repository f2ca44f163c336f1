// create and delete.
#include <ostream>

#include <nlohmann/json.hpp>

#include "app/cli.h"
#include "ops/config_file.h"
#include "ops/resolve.h"
#include "ops/subcommands.h"

namespace hdm::ops {

int RunCreate(const OpsContext& ctx, const OpsOptions& o) {
  auto config = LoadConnectionConfig(o.connection_config_path);
  if (!config) return Fail(ctx, {.exit_code = kExitUsage, .message = config.error()});
  hotdata::CreateConnectionRequest req{.name = o.name,
                                       .source_type = o.source_type,
                                       .config = std::move(*config),
                                       .secret_id = o.secret_id,
                                       .secret_name = o.secret_name,
                                       .skip_discovery = o.skip_discovery};
  auto api = ctx.make_api();
  auto created = api->CreateConnection(req);
  if (!created) return Fail(ctx, ApiFailure("create connection " + o.name, created.error()));
  if (o.json) {
    nlohmann::json j = {{"id", created->id},
                        {"name", created->name},
                        {"source_type", created->source_type},
                        {"tables_discovered", created->tables_discovered},
                        {"discovery_status", created->discovery_status}};
    if (created->discovery_error) j["discovery_error"] = *created->discovery_error;
    ctx.out << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  ctx.out << "created " << created->name << " (" << created->id << "), " << created->source_type
          << "\n"
          << "discovery:         " << created->discovery_status << "\n"
          << "tables discovered: " << created->tables_discovered << "\n";
  if (created->discovery_error) {
    ctx.out << "discovery error:   " << *created->discovery_error << "\n";
  }
  return kExitOk;
}

int RunDelete(const OpsContext& ctx, const OpsOptions& o) {
  auto api = ctx.make_api();
  auto resolved = ResolveAll(*api, o.refs);
  if (!resolved) return Fail(ctx, resolved.error());
  const auto& c = resolved->front();
  const std::string what = c.name + " (" + c.id + ", " + c.source_type + ")";
  if (!o.yes && !Confirm(ctx, "Delete connection " + what + "? This cannot be undone.")) {
    return Fail(ctx, {.exit_code = kExitNotDone, .message = "not confirmed: nothing deleted"});
  }
  auto deleted = api->DeleteConnection(c.id);
  if (!deleted) return Fail(ctx, ApiFailure("delete connection " + c.id, deleted.error()));
  ctx.out << "deleted " << what << "\n";
  return kExitOk;
}

}  // namespace hdm::ops
