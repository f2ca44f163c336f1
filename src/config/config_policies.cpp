// The policies section: match, when (per event), action, cooldown, dry_run.
#include <array>
#include <cstdint>
#include <map>

#include "config/config_sections.h"

namespace hdm::config_internal {
namespace {

struct EventInfo {
  std::string_view name;
  EventKind kind;
  std::vector<std::string_view> keys;  // the `when` keys that apply besides `event`
};

const std::vector<EventInfo>& Events() {
  static const std::vector<EventInfo> events = {
      {"unhealthy", EventKind::kUnhealthy, {"for", "after_failures"}},
      {"recovered", EventKind::kRecovered, {"for", "after_failures"}},
      {"latency_above", EventKind::kLatencyAbove, {"threshold", "for"}},
      {"schedule", EventKind::kSchedule, {"cron", "every"}},
      {"table_stale", EventKind::kTableStale, {"max_age"}},
      {"tables_changed", EventKind::kTablesChanged, {}},
      {"alert", EventKind::kAlert, {"alertname", "labels", "for"}},
  };
  return events;
}

constexpr std::array<std::string_view, 8> kWhenKeys = {
    "for", "after_failures", "threshold", "cron", "every", "max_age", "alertname", "labels"};

// alert's `labels`: a mapping of label names to the exact values they must have.
std::map<std::string, std::string> ParseAlertLabels(const YAML::Node& node, const std::string& path,
                                                    Errors& errors) {
  std::map<std::string, std::string> labels;
  if (!node.IsMap()) {
    errors.Add(node, path, "expected a mapping of label names to values, got " + Describe(node));
    return labels;
  }
  for (const auto& kv : node) {
    const std::string name = kv.first.Scalar();
    const std::string item_path = Join(path, name);
    if (!kv.first.IsScalar() || name.empty()) {
      errors.Add(kv.first, path, "label names must be non-empty strings");
      continue;
    }
    if (name == "alertname") {
      errors.Add(kv.first, item_path, "give the alert name in when.alertname, not in labels");
      continue;
    }
    if (auto value = AsString(kv.second, item_path, errors)) labels[name] = *value;
  }
  return labels;
}

struct ParsedWhen {
  WhenConfig when;
  const EventInfo* event = nullptr;  // null when missing or unknown
  YAML::Node event_node;
};

ParsedWhen ParseWhen(const YAML::Node& node, const std::string& path, bool have_tables,
                     Errors& errors) {
  ParsedWhen out;
  WhenConfig& when = out.when;
  MapReader r(node, path, errors);
  if (r.Require("event")) {
    out.event_node = *r.Take("event");
    if (auto name = AsString(out.event_node, r.PathOf("event"), errors)) {
      for (const EventInfo& info : Events()) {
        if (info.name == *name) out.event = &info;
      }
      if (out.event == nullptr) {
        errors.Add(out.event_node, r.PathOf("event"),
                   "unknown event \"" + *name +
                       "\"; expected one of unhealthy, recovered, latency_above, schedule, "
                       "table_stale, tables_changed, alert");
      } else {
        when.event = out.event->kind;
      }
    }
  }
  const EventInfo* event = out.event;
  auto applies = [&](std::string_view key) {
    if (event == nullptr) return true;
    for (std::string_view k : event->keys) {
      if (k == key) return true;
    }
    return false;
  };
  std::map<std::string_view, bool> present;
  for (std::string_view key : kWhenKeys) {
    const YAML::Node key_node = r.KeyNode(key);
    present[key] = r.Take(key).has_value();
    if (present[key] && !applies(key)) {
      errors.Add(
          key_node, r.PathOf(key),
          "\"" + std::string(key) + "\" does not apply to event " + std::string(event->name));
    }
  }
  auto duration = [&](std::string_view key, Millis min) -> std::optional<Millis> {
    if (!present[key] || !applies(key)) return std::nullopt;
    return r.Duration(key, min);
  };
  const bool zero_for = event != nullptr && (event->kind == EventKind::kLatencyAbove ||
                                             event->kind == EventKind::kAlert);
  when.for_duration = duration("for", zero_for ? Millis{0} : Millis{1});
  when.threshold = duration("threshold", Millis{1});
  when.every = duration("every", Millis{1});
  when.max_age = duration("max_age", Millis{1});
  if (present["after_failures"] && applies("after_failures")) {
    if (auto v = r.Int("after_failures", 1, INT32_MAX)) when.after_failures = static_cast<int>(*v);
  }
  if (present["cron"] && applies("cron")) {
    const YAML::Node cron_node = *r.Take("cron");
    when.cron = ParseCronNode(cron_node, r.PathOf("cron"), errors);
    if (when.cron) when.cron_text = cron_node.Scalar();
  }
  if (present["alertname"] && applies("alertname")) {
    const YAML::Node names_node = r.KeyNode("alertname");
    if (auto names = AsStrings(*r.Take("alertname"), r.PathOf("alertname"), errors, true)) {
      for (const std::string& n : *names) {
        if (n.empty()) {
          errors.Add(names_node, r.PathOf("alertname"), "alert names must not be empty");
        }
      }
      if (names->empty()) {
        errors.Add(names_node, r.PathOf("alertname"), "name at least one alert");
      }
      when.alertnames = std::move(*names);
    }
  }
  if (present["labels"] && applies("labels")) {
    when.alert_labels = ParseAlertLabels(*r.Take("labels"), r.PathOf("labels"), errors);
  }
  r.Finish();
  if (event == nullptr) return out;

  const std::string name(event->name);
  switch (event->kind) {
    case EventKind::kUnhealthy:
    case EventKind::kRecovered:
      if (!present["for"] && !present["after_failures"]) {
        errors.Add(r.mark(), path, "event " + name + " needs for, after_failures or both");
      }
      break;
    case EventKind::kLatencyAbove:
      r.Require("threshold");
      r.Require("for");
      break;
    case EventKind::kSchedule:
      if (present["cron"] && present["every"]) {
        errors.Add(r.KeyNode("every"), r.PathOf("every"),
                   "cron and every exclude each other; give one of them");
      } else if (!present["cron"] && !present["every"]) {
        errors.Add(r.mark(), path, "event schedule needs cron or every");
      }
      break;
    case EventKind::kTableStale:
      r.Require("max_age");
      if (!have_tables) {
        errors.Add(out.event_node, r.PathOf("event"),
                   "event table_stale needs a non-empty top-level tables: list");
      }
      break;
    case EventKind::kTablesChanged:
      break;
    case EventKind::kAlert:
      r.Require("alertname");
      break;
  }
  return out;
}

std::optional<TableRef> ParseTableRef(const YAML::Node& node, const std::string& path,
                                      Errors& errors) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    const size_t dot = text.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) {
      errors.Add(node, path, "expected \"schema.table\", got " + Describe(node));
      return std::nullopt;
    }
    return TableRef{.schema = text.substr(0, dot), .table = text.substr(dot + 1)};
  }
  if (!node.IsMap()) {
    errors.Add(node, path,
               "expected \"schema.table\" or {schema: ..., table: ...}, got " + Describe(node));
    return std::nullopt;
  }
  MapReader r(node, path, errors);
  TableRef ref;
  if (r.Require("schema")) ref.schema = r.String("schema", true).value_or("");
  if (r.Require("table")) ref.table = r.String("table", true).value_or("");
  r.Finish();
  return ref;
}

// `event` is null when the policy's event is missing or unknown.
ActionConfig ParseAction(const YAML::Node& node, const std::string& path, const EventInfo* event,
                         Errors& errors) {
  ActionConfig action;
  bool purge_ok = false;
  MapReader r(node, path, errors);
  if (r.Require("purge")) {
    const YAML::Node purge_node = *r.Take("purge");
    if (auto purge = AsString(purge_node, r.PathOf("purge"), errors)) {
      if (*purge == "connection" || *purge == "table") {
        action.purge = *purge == "table" ? PurgeKind::kTable : PurgeKind::kConnection;
        purge_ok = true;
      } else {
        errors.Add(purge_node, r.PathOf("purge"),
                   "expected connection or table, got " + Describe(purge_node));
      }
      if (purge_ok && action.purge == PurgeKind::kConnection && event != nullptr &&
          event->kind == EventKind::kTableStale) {
        errors.Add(purge_node, r.PathOf("purge"),
                   "event table_stale needs purge: table, got connection");
      }
    }
  }
  const auto tables_node = r.Take("tables");
  if (tables_node) {
    const std::string tables_path = r.PathOf("tables");
    const auto items = AsList(*tables_node, tables_path, errors);
    for (size_t i = 0; items && i < items->size(); ++i) {
      if (auto ref = ParseTableRef((*items)[i], Index(tables_path, i), errors)) {
        action.tables.push_back(*ref);
      }
    }
    if (purge_ok && action.purge == PurgeKind::kConnection) {
      errors.Add(*tables_node, tables_path, "tables only apply to purge: table");
    }
  }
  r.Finish();
  // Only table_stale and alert (its schema and table labels) name the tables that triggered; any
  // other event needs them listed.
  if (purge_ok && action.purge == PurgeKind::kTable && action.tables.empty() && !tables_node &&
      event != nullptr && event->kind != EventKind::kTableStale &&
      event->kind != EventKind::kAlert) {
    errors.Add(r.mark(), path,
               "purge: table needs a tables: list unless the event is table_stale or alert");
  }
  return action;
}

}  // namespace

std::vector<PolicyConfig> ParsePolicies(const YAML::Node& node, bool have_tables, Errors& errors) {
  std::vector<PolicyConfig> policies;
  const auto items = AsList(node, "policies", errors);
  std::map<std::string, std::string> first_path_of_name;
  for (size_t i = 0; items && i < items->size(); ++i) {
    const std::string path = Index("policies", i);
    MapReader r((*items)[i], path, errors);
    PolicyConfig policy;
    if (r.Require("name")) {
      const YAML::Node name_node = *r.Take("name");
      if (auto name = AsString(name_node, r.PathOf("name"), errors)) {
        if (name->empty()) {
          errors.Add(name_node, r.PathOf("name"), "must not be empty");
        } else if (auto [it, fresh] = first_path_of_name.emplace(*name, path); !fresh) {
          errors.Add(name_node, r.PathOf("name"),
                     "duplicate policy name \"" + *name + "\" (also " + it->second + ")");
        }
        policy.name = *name;
      }
    }
    if (auto v = r.Take("match")) policy.match = ParseSelector(*v, r.PathOf("match"), errors);
    const EventInfo* event = nullptr;
    if (r.Require("when")) {
      ParsedWhen parsed = ParseWhen(*r.Take("when"), r.PathOf("when"), have_tables, errors);
      policy.when = parsed.when;
      event = parsed.event;
    }
    if (r.Require("action")) {
      policy.action = ParseAction(*r.Take("action"), r.PathOf("action"), event, errors);
    }
    if (auto v = r.Duration("cooldown", Millis{0})) policy.cooldown = *v;
    if (auto v = r.Bool("dry_run")) policy.dry_run = *v;
    r.Finish();
    policies.push_back(std::move(policy));
  }
  return policies;
}

}  // namespace hdm::config_internal
