#include "policy/runner.h"

namespace hdm::policy {

Outcome ClassifyPurgeError(const hotdata::ApiError& error) {
  using hotdata::ErrorKind;
  Outcome out{.kind = OutcomeKind::kFailed, .message = error.ToString()};
  if (error.IsPermanent()) {
    out.kind = OutcomeKind::kPermanentError;
  } else if (error.kind == ErrorKind::kCancelled && error.request_sent) {
    out.kind = OutcomeKind::kUnknown;
  } else if (error.kind == ErrorKind::kTimeout || error.kind == ErrorKind::kConnection ||
             error.kind == ErrorKind::kCancelled ||
             (error.kind == ErrorKind::kHttpStatus &&
              (error.status >= 500 || error.status == 429))) {
    out.kind = OutcomeKind::kTransientError;
  }
  out.unreachable = error.kind == ErrorKind::kTimeout || error.kind == ErrorKind::kConnection ||
                    (error.kind == ErrorKind::kHttpStatus && error.status >= 500);
  return out;
}

PolicyRunner::PolicyRunner(hotdata::HotdataApi& api, AuditLog& audit, const Clock& clock)
    : api_(api), audit_(audit), clock_(clock) {}

std::optional<Outcome> PolicyRunner::Execute(const Decision& d) {
  if (d.verdict != Verdict::kPerform) {
    audit_.Add(EntryFor(d, clock_.Now()));
    return std::nullopt;
  }
  hotdata::ApiResult<hotdata::Empty> result =
      d.target.table ? api_.PurgeTableCache(d.target.connection_id, d.target.table->schema,
                                            d.target.table->table)
                     : api_.PurgeConnectionCache(d.target.connection_id);
  const Outcome outcome = result ? Outcome{} : ClassifyPurgeError(result.error());
  audit_.Add(EntryFor(d, clock_.Now(), outcome));
  return outcome;
}

Outcome PolicyRunner::HoldBack(const Decision& d, const std::string& why) {
  const Outcome outcome{.kind = OutcomeKind::kTransientError, .message = "not sent: " + why};
  audit_.Add(EntryFor(d, clock_.Now(), outcome));
  return outcome;
}

}  // namespace hdm::policy
