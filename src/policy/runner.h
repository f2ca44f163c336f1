// PolicyRunner: performs the engine's decisions through the Hotdata API and records each one in
// the audit log. It has no timing logic and keeps no state: what to do, when, and what an
// outcome means for later decisions are the engine's business.
//
// Not thread-safe (the HotdataApi it uses serves one thread at a time): one thread runs it.
#pragma once

#include <optional>
#include <string>

#include "common/clock.h"
#include "hotdata/api.h"
#include "policy/audit_log.h"
#include "policy/decision.h"

namespace hdm::policy {

// How a purge's API error counts (product.md, hotdata-api.md):
//   400, 409                              -> kPermanentError (retrying cannot succeed)
//   5xx, 429, timeout, connection error,
//   cancelled (shutdown) before the
//   request went out                      -> kTransientError (one retry, later)
//   cancelled after it went out           -> kUnknown (it may have purged: cooldown stands)
//   anything else: 404 (gone, or not yet
//   synced), 401, 403, other 4xx, a body
//   that does not decode                  -> kFailed (not retried, not marked)
// A 404 is not permanent: the connection or table may come back under the same id.
Outcome ClassifyPurgeError(const hotdata::ApiError& error);

class PolicyRunner {
 public:
  // `api` and `audit` must outlive the runner. `clock` stamps the audit entries.
  PolicyRunner(hotdata::HotdataApi& api, AuditLog& audit, const Clock& clock);

  // kPerform: calls purge_connection_cache or purge_table_cache, audits success or failure and
  // returns the Outcome for PolicyEngine::OnOutcome(). kDryRun and kSuppressed: audits them and
  // returns nullopt (nothing to report back). Never throws.
  std::optional<Outcome> Execute(const Decision& decision);
  // A kPerform decision that must not be sent (the state file could not be written ahead of
  // it): audits it as failed with `why`, "not sent: <why>", and returns it as a transient error,
  // so that the engine restores the target's cooldown and retries it once, one interval later.
  Outcome HoldBack(const Decision& decision, const std::string& why);

 private:
  hotdata::HotdataApi& api_;
  AuditLog& audit_;
  const Clock& clock_;
};

}  // namespace hdm::policy
