#include "policy/policy_state.h"

#include <algorithm>
#include <chrono>
#include <iterator>

namespace hdm::policy {
namespace {

using nlohmann::json;

void PutTarget(json& j, const TargetKey& t) {
  j["connection_id"] = t.connection_id;
  if (t.IsTable()) {
    j["schema"] = t.schema;
    j["table"] = t.table;
  }
}

void PutKey(json& j, const PolicyKey& k) {
  j["policy"] = k.policy;
  PutTarget(j, k.target);
}

// Decoding: a malformed document is reported with the path of the first bad field. The
// exception never leaves this file.
struct DecodeError {
  std::string message;
};

const json& Field(const json& obj, const std::string& path, const char* key) {
  if (!obj.is_object()) throw DecodeError{path + ": expected an object"};
  auto it = obj.find(key);
  if (it == obj.end()) throw DecodeError{path + "." + key + ": missing"};
  return *it;
}

std::string Str(const json& obj, const std::string& path, const char* key) {
  const json& v = Field(obj, path, key);
  if (!v.is_string()) throw DecodeError{path + "." + key + ": expected a string"};
  return v.get<std::string>();
}

std::string OptStr(const json& obj, const std::string& path, const char* key) {
  return obj.contains(key) ? Str(obj, path, key) : std::string();
}

int64_t Int(const json& v, const std::string& path) {
  if (!v.is_number_integer()) throw DecodeError{path + ": expected an integer"};
  return v.get<int64_t>();
}

int64_t Int(const json& obj, const std::string& path, const char* key) {
  return Int(Field(obj, path, key), path + "." + key);
}

bool Bool(const json& obj, const std::string& path, const char* key) {
  const json& v = Field(obj, path, key);
  if (!v.is_boolean()) throw DecodeError{path + "." + key + ": expected true or false"};
  return v.get<bool>();
}

std::optional<int64_t> OptInt(const json& obj, const std::string& path, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  return Int(*it, path + "." + key);
}

TargetKey GetTarget(const json& obj, const std::string& path) {
  TargetKey t{.connection_id = Str(obj, path, "connection_id"),
              .schema = OptStr(obj, path, "schema"),
              .table = OptStr(obj, path, "table")};
  if (t.schema.empty() != t.table.empty()) throw DecodeError{path + ": schema without table"};
  return t;
}

PolicyKey GetKey(const json& obj, const std::string& path) {
  return PolicyKey{.policy = Str(obj, path, "policy"), .target = GetTarget(obj, path)};
}

// Calls `f(item, path)` for every element of the array `key` (absent: none).
template <typename F>
void EachOf(const json& doc, const char* key, F f) {
  auto it = doc.find(key);
  if (it == doc.end()) return;
  if (!it->is_array()) throw DecodeError{std::string(key) + ": expected a list"};
  for (size_t i = 0; i < it->size(); ++i) {
    f((*it)[i], std::string(key) + "[" + std::to_string(i) + "]");
  }
}

template <typename F>
void EachEntry(const json& doc, const char* key, F f) {
  auto it = doc.find(key);
  if (it == doc.end()) return;
  if (!it->is_object()) throw DecodeError{std::string(key) + ": expected an object"};
  for (const auto& [name, value] : it->items()) f(name, value, std::string(key) + "." + name);
}

PolicyState Decode(const json& j) {
  if (!j.is_object()) throw DecodeError{"expected an object"};
  PolicyState s;
  EachOf(j, "cooldowns", [&](const json& e, const std::string& p) {
    PolicyKey key = GetKey(e, p);  // first: the key's errors come before the value's
    s.cooldown_until[std::move(key)] = FromUnixMs(Int(e, p, "until_ms"));
  });
  EachOf(j, "budget_spends_ms", [&](const json& e, const std::string& p) {
    s.budget_spends.push_back(FromUnixMs(Int(e, p)));
  });
  EachOf(j, "permanent", [&](const json& e, const std::string& p) {
    TargetKey target = GetTarget(e, p);
    s.permanent[std::move(target)] = PermanentMark{.policy = Str(e, p, "policy"),
                                                   .at = FromUnixMs(Int(e, p, "at_ms")),
                                                   .message = OptStr(e, p, "message")};
  });
  if (j.contains("permanent_fingerprint")) {
    s.permanent_fingerprint = Str(j, "", "permanent_fingerprint");
  }
  EachEntry(j, "policy_fingerprints",
            [&](const std::string& name, const json& v, const std::string& p) {
              if (!v.is_string()) throw DecodeError{p + ": expected a string"};
              s.policy_fingerprints[name] = v.get<std::string>();
            });
  EachOf(j, "episodes", [&](const json& e, const std::string& p) {
    PolicyKey key = GetKey(e, p);
    s.episodes[std::move(key)] = Episode{.since = FromUnixMs(Int(e, p, "since_ms")),
                                         .last = FromUnixMs(Int(e, p, "last_ms")),
                                         .answers = Int(e, p, "answers"),
                                         .fired = Bool(e, p, "fired"),
                                         .overlapped_pause = Bool(e, p, "overlapped_pause")};
  });
  EachEntry(j, "schedule_last_fire_ms",
            [&](const std::string& name, const json& v, const std::string& p) {
              s.schedule_last_fire[name] = FromUnixMs(Int(v, p));
            });
  EachOf(j, "retries", [&](const json& e, const std::string& p) {
    PolicyKey key = GetKey(e, p);
    s.retries[std::move(key)] = PendingRetry{.due = FromUnixMs(Int(e, p, "due_ms")),
                                             .connection_name = OptStr(e, p, "connection_name"),
                                             .trigger = OptStr(e, p, "trigger")};
  });
  EachEntry(j, "table_counts", [&](const std::string& id, const json& v, const std::string& p) {
    s.table_counts[id] = TableCounts{.table_count = OptInt(v, p, "table_count"),
                                     .synced_table_count = OptInt(v, p, "synced_table_count")};
  });
  if (auto it = j.find("state_lost"); it != j.end() && !it->is_null()) {
    s.state_lost = StateLostHold{.since = FromUnixMs(Int(*it, "state_lost", "since_ms")),
                                 .file_time = FromUnixMs(Int(*it, "state_lost", "file_time_ms")),
                                 .file = OptStr(*it, "state_lost", "file"),
                                 .why = OptStr(*it, "state_lost", "why")};
  }
  if (auto cleared = OptInt(j, "", "state_lost_cleared_ms")) {
    s.state_lost_cleared = FromUnixMs(*cleared);
  }
  EachOf(j, "alert_episodes", [&](const json& e, const std::string& p) {
    AlertKey key{.policy = Str(e, p, "policy"), .fingerprint = Str(e, p, "fingerprint")};
    AlertEpisode ep{.starts_at = FromUnixMs(Int(e, p, "starts_at_ms")),
                    .last_seen = FromUnixMs(Int(e, p, "last_seen_ms")),
                    .alertname = OptStr(e, p, "alertname"),
                    .summary = OptStr(e, p, "summary"),
                    .connection_id = OptStr(e, p, "connection_id"),
                    .schema = OptStr(e, p, "schema"),
                    .table = OptStr(e, p, "table"),
                    .fired = Bool(e, p, "fired")};
    if (auto ended = OptInt(e, p, "ended_ms")) ep.ended = FromUnixMs(*ended);
    s.alert_episodes[std::move(key)] = std::move(ep);
  });
  std::sort(s.budget_spends.begin(), s.budget_spends.end());
  return s;
}

}  // namespace

int64_t ToUnixMs(SysTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

SysTime FromUnixMs(int64_t ms) {
  return SysTime(std::chrono::duration_cast<SysTime::duration>(std::chrono::milliseconds(ms)));
}

nlohmann::json PolicyStateToJson(const PolicyState& s) {
  json j = json::object();
  json& cooldowns = j["cooldowns"] = json::array();
  for (const auto& [key, until] : s.cooldown_until) {
    json e;
    PutKey(e, key);
    e["until_ms"] = ToUnixMs(until);
    cooldowns.push_back(std::move(e));
  }
  json& spends = j["budget_spends_ms"] = json::array();
  for (SysTime t : s.budget_spends) spends.push_back(ToUnixMs(t));
  json& permanent = j["permanent"] = json::array();
  for (const auto& [target, mark] : s.permanent) {
    json e;
    PutTarget(e, target);
    e["policy"] = mark.policy;
    e["at_ms"] = ToUnixMs(mark.at);
    e["message"] = mark.message;
    permanent.push_back(std::move(e));
  }
  j["permanent_fingerprint"] = s.permanent_fingerprint;
  j["policy_fingerprints"] = s.policy_fingerprints;
  json& episodes = j["episodes"] = json::array();
  for (const auto& [key, ep] : s.episodes) {
    json e;
    PutKey(e, key);
    e["since_ms"] = ToUnixMs(ep.since);
    e["last_ms"] = ToUnixMs(ep.last);
    e["answers"] = ep.answers;
    e["fired"] = ep.fired;
    e["overlapped_pause"] = ep.overlapped_pause;
    episodes.push_back(std::move(e));
  }
  json& schedules = j["schedule_last_fire_ms"] = json::object();
  for (const auto& [policy, t] : s.schedule_last_fire) schedules[policy] = ToUnixMs(t);
  json& retries = j["retries"] = json::array();
  for (const auto& [key, r] : s.retries) {
    json e;
    PutKey(e, key);
    e["due_ms"] = ToUnixMs(r.due);
    e["connection_name"] = r.connection_name;
    e["trigger"] = r.trigger;
    retries.push_back(std::move(e));
  }
  json& counts = j["table_counts"] = json::object();
  for (const auto& [id, c] : s.table_counts) {
    counts[id] = {
        {"table_count", c.table_count ? json(*c.table_count) : json(nullptr)},
        {"synced_table_count", c.synced_table_count ? json(*c.synced_table_count) : json(nullptr)}};
  }
  // Absent unless set: a release that knows neither reads the rest as before.
  if (s.state_lost) {
    j["state_lost"] = {{"since_ms", ToUnixMs(s.state_lost->since)},
                       {"file_time_ms", ToUnixMs(s.state_lost->file_time)},
                       {"file", s.state_lost->file},
                       {"why", s.state_lost->why}};
  }
  if (s.state_lost_cleared) j["state_lost_cleared_ms"] = ToUnixMs(*s.state_lost_cleared);
  // Absent when empty, like state_lost: an older release reads the rest as before.
  if (!s.alert_episodes.empty()) {
    json& alerts = j["alert_episodes"] = json::array();
    for (const auto& [key, ep] : s.alert_episodes) {
      json e = {{"policy", key.policy},
                {"fingerprint", key.fingerprint},
                {"starts_at_ms", ToUnixMs(ep.starts_at)},
                {"last_seen_ms", ToUnixMs(ep.last_seen)},
                {"alertname", ep.alertname},
                {"summary", ep.summary},
                {"connection_id", ep.connection_id},
                {"schema", ep.schema},
                {"table", ep.table},
                {"fired", ep.fired}};
      if (ep.ended) e["ended_ms"] = ToUnixMs(*ep.ended);
      alerts.push_back(std::move(e));
    }
  }
  return j;
}

void MergeShared(PolicyState& into, const PolicyState& from) {
  for (const auto& [key, until] : from.cooldown_until) {
    auto [it, fresh] = into.cooldown_until.try_emplace(key, until);
    if (!fresh && it->second < until) it->second = until;
  }
  std::vector<SysTime> mine = into.budget_spends;
  std::vector<SysTime> theirs = from.budget_spends;
  std::sort(mine.begin(), mine.end());
  std::sort(theirs.begin(), theirs.end());
  // The multiset union: each instant as often as the side that has it most often.
  into.budget_spends.clear();
  std::set_union(mine.begin(), mine.end(), theirs.begin(), theirs.end(),
                 std::back_inserter(into.budget_spends));
  if (from.state_lost_cleared &&
      (!into.state_lost_cleared || *into.state_lost_cleared < *from.state_lost_cleared)) {
    into.state_lost_cleared = from.state_lost_cleared;
  }
  if (into.state_lost && into.state_lost_cleared &&
      ToUnixMs(*into.state_lost_cleared) == ToUnixMs(into.state_lost->since)) {
    into.state_lost.reset();
  }
}

std::expected<PolicyState, std::string> PolicyStateFromJson(const nlohmann::json& j) {
  try {
    return Decode(j);
  } catch (const DecodeError& e) {
    return std::unexpected("policy state: " + e.message);
  } catch (const json::exception& e) {
    return std::unexpected(std::string("policy state: ") + e.what());
  }
}

}  // namespace hdm::policy
