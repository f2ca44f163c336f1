// MapReader: the keys of one mapping, typed getters, and unknown-key reports with suggestions.
#include <algorithm>
#include <charconv>

#include "config/config_yaml.h"

namespace hdm::config_internal {
namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The known key closest to `key`, if close enough to be a likely typo.
std::optional<std::string> Suggest(std::string_view key, const std::vector<std::string>& known) {
  std::optional<std::string> best;
  size_t best_distance = std::max<size_t>(1, std::min<size_t>(3, key.size() / 3)) + 1;
  for (const std::string& candidate : known) {
    const size_t d = EditDistance(key, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string FormatNumber(double value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

}  // namespace

MapReader::MapReader(const YAML::Node& node, std::string path, Errors& errors)
    : path_(std::move(path)), errors_(errors), mark_(errors.MarkOf(node)) {
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    errors_.Add(
        node, path_,
        (path_.empty() ? "expected a mapping at the top level, got " : "expected a mapping, got ") +
            Describe(node));
    not_a_mapping_ = true;
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      errors_.Add(key, path_, "expected a string key, got " + Describe(key));
      continue;
    }
    if (Find(key.Scalar()) != nullptr) {
      errors_.Add(key, Join(path_, key.Scalar()), "duplicate key " + Quote(key.Scalar()));
      continue;
    }
    if (it->second.IsNull()) errors_.NoteEmptyValue(it->second, key.Mark());
    entries_.push_back(Entry{.key = key.Scalar(), .key_node = key, .value = it->second});
  }
}

MapReader::Entry* MapReader::Find(std::string_view key) {
  for (Entry& entry : entries_) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

const MapReader::Entry* MapReader::Find(std::string_view key) const {
  return const_cast<MapReader*>(this)->Find(key);
}

std::optional<YAML::Node> MapReader::Take(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  Entry* entry = Find(key);
  if (entry == nullptr) return std::nullopt;
  entry->taken = true;
  return entry->value;
}

YAML::Node MapReader::KeyNode(std::string_view key) const {
  const Entry* entry = Find(key);
  return entry == nullptr ? YAML::Node() : entry->key_node;
}

bool MapReader::Require(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  if (Find(key) != nullptr) return true;
  if (not_a_mapping_) return false;  // already reported
  errors_.Add(mark_, PathOf(key), "required key is missing");
  return false;
}

std::optional<std::string> MapReader::String(std::string_view key, bool non_empty) {
  auto node = Take(key);
  if (!node) return std::nullopt;
  auto value = AsString(*node, PathOf(key), errors_);
  if (value && non_empty && value->empty()) {
    errors_.Add(*node, PathOf(key), "must not be empty");
    return std::nullopt;
  }
  return value;
}

std::optional<int64_t> MapReader::Int(std::string_view key, int64_t min, int64_t max) {
  auto node = Take(key);
  if (!node) return std::nullopt;
  auto value = AsInt(*node, PathOf(key), errors_);
  if (value && (*value < min || *value > max)) {
    errors_.Add(*node, PathOf(key),
                (max == INT32_MAX
                     ? "must be at least " + std::to_string(min)
                     : "must be between " + std::to_string(min) + " and " + std::to_string(max)) +
                    ", got " + std::to_string(*value));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> MapReader::Bool(std::string_view key) {
  auto node = Take(key);
  if (!node) return std::nullopt;
  return AsBool(*node, PathOf(key), errors_);
}

std::optional<double> MapReader::Number(std::string_view key, double min, double max) {
  auto node = Take(key);
  if (!node) return std::nullopt;
  auto value = AsNumber(*node, PathOf(key), errors_);
  if (value && (*value < min || *value > max)) {
    errors_.Add(*node, PathOf(key),
                "must be between " + FormatNumber(min) + " and " + FormatNumber(max) + ", got " +
                    node->Scalar());
    return std::nullopt;
  }
  return value;
}

std::optional<Millis> MapReader::Duration(std::string_view key, Millis min) {
  auto node = Take(key);
  if (!node) return std::nullopt;
  auto value = AsDuration(*node, PathOf(key), errors_);
  if (value && *value < min) {
    errors_.Add(*node, PathOf(key),
                (min == Millis{1} ? std::string("must be greater than 0s")
                                  : "must be at least " + FormatDuration(min)) +
                    ", got " + node->Scalar());
    return std::nullopt;
  }
  return value;
}

void MapReader::Finish() {
  for (const Entry& entry : entries_) {
    if (entry.taken) continue;
    std::string message = "unknown key " + Quote(entry.key);
    if (auto suggestion = Suggest(entry.key, known_)) {
      message += " (did you mean " + Quote(*suggestion) + "?)";
    }
    errors_.Add(entry.key_node, Join(path_, entry.key), std::move(message));
  }
}

}  // namespace hdm::config_internal
