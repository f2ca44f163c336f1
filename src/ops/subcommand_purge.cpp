// purge: the connection's cache, or one table's, behind the daemon's safeties and in its state.
#include <unistd.h>

#include <ostream>

#include "app/cli.h"
#include "common/time_format.h"
#include "ops/purge_guard.h"
#include "ops/resolve.h"
#include "ops/subcommands.h"
#include "policy/manual_actions.h"

namespace hdm::ops {
namespace {

std::string ActionId(SysTime now) {
  return std::to_string(
             std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch())
                 .count()) +
         "-" + std::to_string(::getpid());
}

}  // namespace

int RunPurge(const OpsContext& ctx, const OpsOptions& o) {
  std::optional<TableRef> table;
  if (o.table) {
    const size_t dot = o.table->find('.');
    table = TableRef{.schema = o.table->substr(0, dot), .table = o.table->substr(dot + 1)};
  }
  auto api = ctx.make_api();
  auto resolved = ResolveAll(*api, o.refs);
  if (!resolved) return Fail(ctx, resolved.error());
  const hotdata::ConnectionInfo& c = resolved->front();
  const policy::TargetKey target = policy::TargetKey::Of(c.id, table);
  const policy::PurgeTarget purge_target{
      .connection_id = c.id, .connection_name = c.name, .table = table};
  const std::string& path = ctx.config.state_file;

  // A first look, so that a refusal comes before the question.
  auto shared = ReadSharedState(path);
  if (!shared && !o.force) {
    return Fail(ctx, {.exit_code = kExitUsage,
                      .message = "state file: " + shared.error() +
                                 "; the purge could not be checked against the daemon's "
                                 "cooldowns and budget (--force purges without them)"});
  }
  std::optional<Refusal> refusal;
  if (shared) refusal = CheckManualPurge(ctx.config, shared->policy, target, ctx.clock.Now());
  if (refusal && !o.force) {
    return Fail(ctx, {.exit_code = kExitNotDone,
                      .message = "refused (" + std::string(policy::ReasonName(refusal->reason)) +
                                 "): " + refusal->detail + "; --force purges anyway"});
  }
  if (!o.yes &&
      !Confirm(ctx, "Purge the cache of " + purge_target.Describe() +
                        "? The next queries will sync afresh from the source database.")) {
    return Fail(ctx, {.exit_code = kExitNotDone, .message = "not confirmed: nothing purged"});
  }

  // Record before the request (it counts even when it fails), under the lock, checking again:
  // the daemon may have purged while the question was open.
  std::string trigger = "operator command line (user " + ctx.user + ")";
  CooldownChanges changes;
  bool recorded = false;
  auto before = UpdateSharedState(path, ctx.clock.Now(), [&](SharedState& s) {
    const SysTime now = ctx.clock.Now();
    refusal = CheckManualPurge(ctx.config, s.policy, target, now);
    if (refusal && !o.force) return false;
    changes = RecordManualPurge(ctx.config, s.policy, target, c, now);
    recorded = true;
    return true;
  });
  if (!before && !o.force) {
    return Fail(ctx, {.exit_code = kExitUsage,
                      .message = "state file: " + before.error() +
                                 "; nothing purged (--force purges without recording it)"});
  }
  if (!before) {
    ctx.err << "hotdata-monitor: warning: state file: " << before.error()
            << "; purging without recording it\n";
  } else if (!recorded) {
    return Fail(ctx, {.exit_code = kExitNotDone,
                      .message = "refused (" + std::string(policy::ReasonName(refusal->reason)) +
                                 "): " + refusal->detail + "; --force purges anyway"});
  }
  if (refusal) trigger += "; --force past " + refusal->detail;

  const auto purged = table ? api->PurgeTableCache(c.id, table->schema, table->table)
                            : api->PurgeConnectionCache(c.id);
  const SysTime done = ctx.clock.Now();
  policy::AuditEntry entry{
      .time = done,
      .policy = policy::kManualPolicy,
      .action = table ? PurgeKind::kTable : PurgeKind::kConnection,
      .target = purge_target,
      .trigger = trigger,
      .outcome = purged ? policy::AuditOutcome::kSuccess : policy::AuditOutcome::kFailed,
      .detail = purged ? "" : purged.error().ToString()};
  if (before) {
    auto after = UpdateSharedState(path, done, [&](SharedState& s) {
      if (!purged) RestoreCooldowns(s.policy, changes);
      policy::AppendManualAction(s.sections, {.id = ActionId(done), .entry = entry});
      return true;
    });
    if (!after) {
      ctx.err << "hotdata-monitor: warning: state file: " << after.error()
              << "; the purge is not in the audit log\n";
    }
  }
  if (!purged) {
    return Fail(ctx, ApiFailure("purge " + purge_target.Describe(), purged.error()));
  }
  ctx.out << "purged the cache of " << purge_target.Describe() << "\n";
  return kExitOk;
}

}  // namespace hdm::ops
