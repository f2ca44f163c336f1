#include "policy/audit_log.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

#include "common/time_format.h"

namespace hdm::policy {

std::string_view AuditOutcomeName(AuditOutcome outcome) {
  switch (outcome) {
    case AuditOutcome::kSuccess:
      return "success";
    case AuditOutcome::kFailed:
      return "failed";
    case AuditOutcome::kDryRun:
      return "dry_run";
    case AuditOutcome::kSuppressed:
      return "suppressed";
    case AuditOutcome::kUnknown:
      return "unknown";
    case AuditOutcome::kHoldStarted:
      return "hold_started";
    case AuditOutcome::kHoldEnded:
      return "hold_ended";
    case AuditOutcome::kIgnored:
      return "ignored";
  }
  return "unknown";
}

nlohmann::json AuditEntry::ToJson() const {
  nlohmann::json j = {
      {"time", FormatRfc3339(time)},
      {"policy", policy},
      {"action", outcome == AuditOutcome::kHoldStarted || outcome == AuditOutcome::kHoldEnded
                     ? std::string("hold")
                     : std::string(ActionName(action))},
      {"connection_id", target.connection_id},
      {"connection", target.connection_name},
  };
  if (target.table) {
    j["schema"] = target.table->schema;
    j["table"] = target.table->table;
  }
  j["target"] = target.Describe();
  j["trigger"] = trigger;
  j["outcome"] = std::string(AuditOutcomeName(outcome));
  j["reason"] = reason ? nlohmann::json(std::string(ReasonName(*reason))) : nlohmann::json(nullptr);
  j["detail"] = detail;
  j["retry"] = retry;
  return j;
}

AuditLog::AuditLog(size_t capacity) : capacity_(std::max<size_t>(capacity, 1)) {}

void AuditLog::Add(AuditEntry entry) {
  // Names come from the API: replace invalid UTF-8 instead of throwing.
  const std::string line =
      entry.ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const bool hold =
      entry.outcome == AuditOutcome::kHoldStarted || entry.outcome == AuditOutcome::kHoldEnded;
  if (hold) {
    spdlog::warn("policy hold: {}", line);
  } else if (entry.outcome == AuditOutcome::kFailed || entry.outcome == AuditOutcome::kUnknown) {
    spdlog::warn("policy decision: {}", line);
  } else {
    spdlog::info("policy decision: {}", line);
  }
  std::lock_guard lock(mu_);
  if (entry.outcome == AuditOutcome::kSuppressed) {
    const std::string_view reason = entry.reason ? ReasonName(*entry.reason) : "unknown";
    ++counters_.suppressed[{entry.policy, std::string(reason)}];
  } else if (entry.outcome != AuditOutcome::kUnknown && entry.outcome != AuditOutcome::kIgnored &&
             !hold) {
    ++counters_.actions[{entry.policy, std::string(ActionName(entry.action)),
                         std::string(AuditOutcomeName(entry.outcome))}];
  }
  entries_.push_back(std::move(entry));
  while (entries_.size() > capacity_) entries_.pop_front();
}

void AuditLog::Restore(std::vector<AuditEntry> oldest_first) {
  std::lock_guard lock(mu_);
  entries_.insert(entries_.begin(), std::make_move_iterator(oldest_first.begin()),
                  std::make_move_iterator(oldest_first.end()));
  while (entries_.size() > capacity_) entries_.pop_front();
}

std::string AuditLog::ToJson() const {
  nlohmann::json actions = nlohmann::json::array();
  {
    std::lock_guard lock(mu_);
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) actions.push_back(it->ToJson());
  }
  return nlohmann::json{{"actions", std::move(actions)}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<AuditEntry> AuditLog::Entries(size_t max) const {
  std::lock_guard lock(mu_);
  const auto n = static_cast<std::ptrdiff_t>(std::min(max, entries_.size()));
  return {entries_.rbegin(), entries_.rbegin() + n};
}

AuditCounters AuditLog::Counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

AuditEntry StateLostEntry(AuditOutcome outcome, std::string detail, SysTime time) {
  return AuditEntry{.time = time,
                    .trigger = "state file",
                    .outcome = outcome,
                    .reason = SuppressReason::kStateLost,
                    .detail = std::move(detail)};
}

AuditEntry EntryFor(const Decision& d, SysTime time, const std::optional<Outcome>& outcome) {
  AuditEntry e{.time = time,
               .policy = d.policy,
               .action = d.action,
               .target = d.target,
               .trigger = d.trigger,
               .retry = d.retry};
  switch (d.verdict) {
    case Verdict::kSuppressed:
      e.outcome = AuditOutcome::kSuppressed;
      e.reason = d.reason;
      e.detail = d.detail;
      break;
    case Verdict::kDryRun:
      e.outcome = AuditOutcome::kDryRun;
      break;
    case Verdict::kPerform:
      if (!outcome) {
        e.outcome = AuditOutcome::kUnknown;
        e.detail = kUnknownOutcomeDetail;
      } else if (outcome->kind == OutcomeKind::kSuccess) {
        e.outcome = AuditOutcome::kSuccess;
      } else if (outcome->kind == OutcomeKind::kUnknown) {
        e.outcome = AuditOutcome::kUnknown;
        e.detail = outcome->message +
                   " (cut off after the request was sent: the API may have purged; the cooldown "
                   "stands and it is not retried)";
      } else {
        e.outcome = AuditOutcome::kFailed;
        e.detail = outcome->message;
        if (outcome->kind == OutcomeKind::kPermanentError) {
          e.detail += " (permanent: not tried again until the config changes)";
        } else if (outcome->kind == OutcomeKind::kTransientError) {
          e.detail += d.retry ? " (transient; this was the one retry)"
                              : " (transient: retried once, one interval later)";
        }
      }
      break;
  }
  return e;
}

}  // namespace hdm::policy
