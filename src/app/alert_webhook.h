// The alert webhook in the daemon: POST /api/v1/alerts (webhook/receiver.h) feeding the policy
// service's alert policies (event: alert), counted in the metrics; and the exposure check that
// --check-config and the start print.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "metrics/metrics.h"
#include "policy/policy_service.h"
#include "webhook/receiver.h"

namespace hdm {

// True when a policy has `event: alert`: only then is POST /api/v1/alerts served.
bool HasAlertPolicy(const Config& config);

// Why the webhook is open to anyone who can reach the port: an alert policy exists, basic auth is
// off (neither server.basic_auth nor the web config's basic_auth_users), no client certificate is
// required and `listen` is not a loopback address (127.0.0.0/8, ::1, localhost). nullopt when
// not.
std::optional<std::string> AlertWebhookExposure(const Config& config, const std::string& listen);

// A receiver that hands alerts to `policy` and counts in `metrics`; both must outlive it.
std::unique_ptr<webhook::Receiver> MakeAlertReceiver(policy::PolicyService& policy,
                                                     Metrics& metrics);

}  // namespace hdm
