#include "policy/fingerprint.h"

#include <cstdint>
#include <cstdio>

namespace hdm::policy {
namespace {

// Appends length-prefixed fields so that no two different configs share a text.
class Canon {
 public:
  Canon& Add(const std::string& s) {
    text_ += std::to_string(s.size()) + ":" + s + ";";
    return *this;
  }
  Canon& Add(int64_t v) { return Add(std::to_string(v)); }
  Canon& Add(const std::vector<std::string>& list) {
    Add(static_cast<int64_t>(list.size()));
    for (const auto& s : list) Add(s);
    return *this;
  }
  template <typename T>
  Canon& AddOpt(const std::optional<T>& v) {
    if (!v) return Add("-");
    if constexpr (std::is_same_v<T, Millis>) {
      return Add(v->count());
    } else {
      return Add(static_cast<int64_t>(*v));
    }
  }
  std::string Hash() const {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : text_) {
      h ^= c;
      h *= 1099511628211ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
  }

 private:
  std::string text_;
};

}  // namespace

std::string PolicyFingerprint(const PolicyConfig& p) {
  Canon c;
  c.Add(p.match.name).Add(p.match.id).Add(p.match.source_type);
  const WhenConfig& w = p.when;
  c.Add(static_cast<int64_t>(w.event)).AddOpt(w.for_duration).AddOpt(w.after_failures);
  c.AddOpt(w.threshold).Add(w.cron ? w.cron_text : "-").AddOpt(w.every).AddOpt(w.max_age);
  c.Add(static_cast<int64_t>(p.action.purge)).Add(static_cast<int64_t>(p.action.tables.size()));
  for (const auto& t : p.action.tables) c.Add(t.schema).Add(t.table);
  // Only for alert policies: the fingerprints of the others (and so their persisted episodes)
  // stay what they were before the alert event existed.
  if (w.event == EventKind::kAlert) {
    c.Add(w.alertnames).Add(static_cast<int64_t>(w.alert_labels.size()));
    for (const auto& [name, value] : w.alert_labels) c.Add(name).Add(value);
  }
  return c.Hash();
}

std::string ConfigFingerprint(const Config& config) {
  Canon c;
  c.Add(config.api.base_url).Add(config.api.workspace_id);
  c.Add(static_cast<int64_t>(config.tables.size()));
  for (const auto& t : config.tables) c.Add(t.connection).Add(t.table.schema).Add(t.table.table);
  c.Add(static_cast<int64_t>(config.policies.size()));
  for (const auto& p : config.policies) {
    c.Add(p.name).Add(PolicyFingerprint(p)).Add(p.cooldown.count()).Add(p.dry_run ? 1 : 0);
  }
  return c.Hash();
}

}  // namespace hdm::policy
