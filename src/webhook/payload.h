// What Alertmanager and Grafana POST to a webhook, decoded: the alerts of one notification.
//
// Alertmanager's webhook_configs send `version: "4"` (the same shape in 0.25 and 0.28, Debian 12
// and 13); Grafana's webhook contact point sends `version: "1"` with the same `alerts` array and
// fields of its own (orgId, title, state, message; per alert values, silenceURL, dashboardURL...),
// which are accepted and not used. Examples: tests/testdata/webhook/.
//
// Strict where a wrong reading could purge: a body that is not such a payload is refused as a
// whole, with a one-line reason naming the field ("alerts[1].startsAt: not an RFC 3339 time"),
// and nothing of it is used. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace hdm::webhook {

enum class AlertStatus { kFiring, kResolved };
// "firing" or "resolved": the `status` label of hotdata_webhook_alerts_total.
std::string_view StatusName(AlertStatus status);

struct Alert {
  AlertStatus status = AlertStatus::kFiring;
  std::map<std::string, std::string> labels;  // has "alertname"
  std::map<std::string, std::string> annotations;
  // Truncated to whole milliseconds, the precision of the state file: an episode's identity
  // (fingerprint, starts_at) read back after a restart equals the one the next repeat carries.
  SysTime starts_at{};
  // Absent for a firing alert (Alertmanager sends "0001-01-01T00:00:00Z"), or a time that does
  // not fit SysTime.
  std::optional<SysTime> ends_at;
  // As sent; when the sender gave none (older Alertmanager), LabelsFingerprint(labels).
  std::string fingerprint;

  const std::string& Name() const { return labels.at("alertname"); }
  // The label's value, or nullptr when absent.
  const std::string* Label(const std::string& name) const;
  const std::string* Annotation(const std::string& name) const;
};

struct Payload {
  enum class Sender { kAlertmanager, kGrafana };
  Sender sender = Sender::kAlertmanager;  // by `version`: "4" or "1"
  std::string receiver;
  std::vector<Alert> alerts;
  // Alerts of the group the sender left out (webhook_configs' max_alerts): never seen here.
  int64_t truncated = 0;
};

// Largest number of alerts one body may carry (a 1 MiB body holds a few thousand).
inline constexpr size_t kMaxAlertsPerBody = 10'000;

// Decodes a webhook body, or says in one line why it is not one.
std::expected<Payload, std::string> DecodePayload(std::string_view body);

// Alertmanager's fingerprint of a label set (prometheus/common model.LabelSet.Fingerprint):
// FNV-1a 64 over the label names in order, each name and value followed by a 0xff byte, as 16
// lowercase hex digits.
std::string LabelsFingerprint(const std::map<std::string, std::string>& labels);

}  // namespace hdm::webhook
