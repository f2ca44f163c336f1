#include "webhook/payload.h"

#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/time_format.h"
#include "hotdata/json_reader.h"

namespace hdm::webhook {
namespace {

using nlohmann::json;
namespace jr = hotdata::detail;

// A label or annotation map: an object of strings.
std::map<std::string, std::string> StringMap(const json& alert, std::string_view key,
                                             const std::string& path, bool required) {
  std::map<std::string, std::string> out;
  const json* v = jr::Find(alert, key);
  const std::string field = jr::FieldPath(path, key);
  if (v == nullptr || v->is_null()) {
    if (required) jr::Fail(field, "missing");
    return out;
  }
  if (!v->is_object()) jr::Fail(field, "expected an object of strings");
  for (const auto& [name, value] : v->items()) {
    if (!value.is_string()) jr::Fail(jr::FieldPath(field, name), "expected a string");
    out.emplace(name, value.get<std::string>());
  }
  return out;
}

SysTime Time(const json& alert, std::string_view key, const std::string& path) {
  const std::string text = jr::RequireString(alert, key, path);
  auto t = ParseRfc3339(text);
  if (!t) jr::Fail(jr::FieldPath(path, key), "not an RFC 3339 time");
  return std::chrono::time_point_cast<std::chrono::milliseconds>(*t);
}

Alert DecodeAlert(const json& j, const std::string& path) {
  jr::ExpectObject(j, path);
  Alert a;
  const std::string status = jr::RequireString(j, "status", path);
  if (status == "firing") {
    a.status = AlertStatus::kFiring;
  } else if (status == "resolved") {
    a.status = AlertStatus::kResolved;
  } else {
    jr::Fail(jr::FieldPath(path, "status"), "expected firing or resolved");
  }
  a.labels = StringMap(j, "labels", path, true);
  if (!a.labels.contains("alertname")) jr::Fail(jr::FieldPath(path, "labels"), "no alertname");
  a.annotations = StringMap(j, "annotations", path, false);
  a.starts_at = Time(j, "startsAt", path);
  if (auto ends = jr::OptionalString(j, "endsAt", path)) {
    // "0001-01-01T00:00:00Z" (a firing alert) and other times out of range read as absent.
    if (auto t = ParseRfc3339(*ends)) a.ends_at = std::chrono::time_point_cast<Millis>(*t);
  }
  if (auto fp = jr::OptionalString(j, "fingerprint", path); fp && !fp->empty()) {
    if (fp->size() > 64) jr::Fail(jr::FieldPath(path, "fingerprint"), "longer than 64 bytes");
    a.fingerprint = *fp;
  } else {
    a.fingerprint = LabelsFingerprint(a.labels);
  }
  return a;
}

Payload Decode(const json& root) {
  if (!root.is_object()) {
    jr::Fail("", "expected a webhook notification (an object with version and alerts)");
  }
  Payload p;
  const std::string version = jr::RequireString(root, "version", "");
  if (version == "4") {
    p.sender = Payload::Sender::kAlertmanager;
  } else if (version == "1") {
    p.sender = Payload::Sender::kGrafana;
  } else {
    jr::Fail("version", "expected \"4\" (Alertmanager) or \"1\" (Grafana), got \"" +
                            version.substr(0, 16) + "\"");
  }
  if (auto r = jr::OptionalString(root, "receiver", "")) p.receiver = *r;
  const json& alerts = jr::RequireArray(root, "alerts", "");
  if (alerts.size() > kMaxAlertsPerBody) {
    jr::Fail("alerts", "more than " + std::to_string(kMaxAlertsPerBody) + " alerts");
  }
  p.alerts.reserve(alerts.size());
  for (size_t i = 0; i < alerts.size(); ++i) {
    p.alerts.push_back(DecodeAlert(alerts[i], jr::IndexPath("alerts", i)));
  }
  if (const json* t = jr::Find(root, "truncatedAlerts"); t != nullptr && !t->is_null()) {
    p.truncated = jr::RequireNonNegativeInt(root, "truncatedAlerts", "");
  }
  return p;
}

}  // namespace

std::string_view StatusName(AlertStatus status) {
  return status == AlertStatus::kFiring ? "firing" : "resolved";
}

const std::string* Alert::Label(const std::string& name) const {
  auto it = labels.find(name);
  return it == labels.end() ? nullptr : &it->second;
}

const std::string* Alert::Annotation(const std::string& name) const {
  auto it = annotations.find(name);
  return it == annotations.end() ? nullptr : &it->second;
}

std::expected<Payload, std::string> DecodePayload(std::string_view body) {
  return jr::DecodeBody<Payload>(body, Decode);
}

std::string LabelsFingerprint(const std::map<std::string, std::string>& labels) {
  uint64_t h = 14695981039346656037ULL;
  auto add = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  };
  for (const auto& [name, value] : labels) {  // std::map: sorted by name
    add(name);
    add(value);
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace hdm::webhook
