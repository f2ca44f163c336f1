#include "policy/audit_section.h"

#include <algorithm>
#include <cstddef>

#include "policy/manual_actions.h"
#include "policy/policy_state.h"

namespace hdm::policy {
namespace {

using nlohmann::json;

json EntryJson(const AuditEntry& entry, bool in_flight) {
  json j = entry.ToJson();
  j.erase("target");  // Describe() of the target fields
  if (j["reason"].is_null()) j.erase("reason");
  if (entry.detail.empty()) j.erase("detail");
  if (!entry.retry) j.erase("retry");
  if (in_flight) j["in_flight"] = true;
  return j;
}

// What an absent member stands for: nothing to go through. (Both sides of `p ? *p : kNone`
// are lvalues of one type: no copy, no temporary.)
const json kNone = json::array();

// The member `key` of `section`, or null when it has none.
const json* Find(const json& section, const char* key) {
  auto it = section.find(key);
  return it == section.end() ? nullptr : &*it;
}

}  // namespace

json AuditSectionToJson(const AuditSection& section, size_t max_entries) {
  const size_t in_flight = std::min(section.in_flight.size(), max_entries);
  const size_t settled = std::min(section.entries.size(), max_entries - in_flight);
  json entries = json::array();
  for (auto it = section.entries.end() - static_cast<std::ptrdiff_t>(settled);
       it != section.entries.end(); ++it) {
    entries.push_back(EntryJson(*it, false));
  }
  for (auto it = section.in_flight.end() - static_cast<std::ptrdiff_t>(in_flight);
       it != section.in_flight.end(); ++it) {
    entries.push_back(EntryJson(*it, true));
  }
  json last_purge = json::object();
  for (const auto& [id, at] : section.last_purge) last_purge[id] = ToUnixMs(at);
  return json{{"entries", std::move(entries)},
              {"last_purge_ms", std::move(last_purge)},
              {"manual_ids", section.manual_ids}};
}

std::expected<AuditSection, std::string> AuditSectionFrom(const json& sections) {
  AuditSection out;
  if (!sections.is_object()) return out;
  auto it = sections.find(kAuditSection);
  if (it == sections.end()) return out;
  if (!it->is_object()) return std::unexpected("audit: expected an object");
  const json* entries = Find(*it, "entries");
  const json* last_purge = Find(*it, "last_purge_ms");
  const json* manual_ids = Find(*it, "manual_ids");
  if (entries && !entries->is_array()) return std::unexpected("audit.entries: expected a list");
  if (last_purge && !last_purge->is_object()) {
    return std::unexpected("audit.last_purge_ms: expected an object");
  }
  if (manual_ids && !manual_ids->is_array()) {
    return std::unexpected("audit.manual_ids: expected a list");
  }
  for (const json& j : entries ? *entries : kNone) {
    auto entry = AuditEntryFromJson(j);
    if (!entry) continue;
    auto flag = j.find("in_flight");
    const bool in_flight = flag != j.end() && flag->is_boolean() && flag->get<bool>();
    (in_flight ? out.in_flight : out.entries).push_back(std::move(*entry));
  }
  for (const auto& [id, ms] : (last_purge ? *last_purge : kNone).items()) {
    if (ms.is_number_integer()) out.last_purge[id] = FromUnixMs(ms.get<int64_t>());
  }
  for (const json& id : manual_ids ? *manual_ids : kNone) {
    if (id.is_string()) out.manual_ids.insert(id.get<std::string>());
  }
  return out;
}

}  // namespace hdm::policy
