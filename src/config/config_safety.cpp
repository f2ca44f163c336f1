// The safety section, and cron values shared with policies.
#include <cstdint>

#include "config/config_sections.h"

namespace hdm::config_internal {

std::optional<CronSpec> ParseCronNode(const YAML::Node& node, const std::string& path,
                                      Errors& errors) {
  auto text = AsString(node, path, errors);
  if (!text) return std::nullopt;
  auto spec = ParseCron(*text);
  if (!spec) {
    errors.Add(node, path, "invalid cron expression \"" + *text + "\": " + spec.error());
    return std::nullopt;
  }
  return *spec;
}

SafetyConfig ParseSafety(const YAML::Node& node, Errors& errors) {
  SafetyConfig safety;
  MapReader r(node, "safety", errors);
  if (auto v = r.Bool("dry_run")) safety.dry_run = *v;
  if (auto v = r.Take("maintenance")) {
    const std::string path = r.PathOf("maintenance");
    const auto items = AsList(*v, path, errors);
    for (size_t i = 0; items && i < items->size(); ++i) {
      MapReader item((*items)[i], Index(path, i), errors);
      MaintenanceWindow window;
      if (item.Require("cron")) {
        const auto cron_node = item.Take("cron");
        if (auto spec = ParseCronNode(*cron_node, item.PathOf("cron"), errors)) {
          window.cron = *spec;
          window.cron_text = cron_node->Scalar();
        }
      }
      if (item.Require("duration")) {
        if (auto d = item.Duration("duration", Millis{1})) window.duration = *d;
      }
      item.Finish();
      safety.maintenance.push_back(std::move(window));
    }
  }
  if (auto v = r.Int("max_purges_per_hour", 0, INT32_MAX)) {
    safety.max_purges_per_hour = static_cast<int>(*v);
  }
  if (auto v = r.Number("pause_when_unhealthy_fraction_above", 0.0, 1.0)) {
    safety.pause_when_unhealthy_fraction_above = *v;
  }
  if (auto v = r.Int("pause_min_connections", 1, INT32_MAX)) {
    safety.pause_min_connections = static_cast<int>(*v);
  }
  r.Finish();
  return safety;
}

}  // namespace hdm::config_internal
