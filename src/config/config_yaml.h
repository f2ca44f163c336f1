// Internal to src/config: typed reading of yaml-cpp nodes that records every problem as a
// ConfigError (collected, never thrown) so that one pass reports all of them.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace hdm::config_internal {

// The errors of one file. Positions come from yaml-cpp marks (0-based) and are stored 1-based;
// a missing mark (-1) is stored as 0, "no position".
class Errors {
 public:
  explicit Errors(std::string file) : file_(std::move(file)) {}
  void Add(const YAML::Mark& mark, std::string key, std::string message);
  void Add(const YAML::Node& at, std::string key, std::string message);
  bool empty() const { return errors_.empty(); }
  // yaml-cpp places an empty value (`key:` and nothing) at the next token, often the next line;
  // once noted, messages about `value` point at its key instead.
  void NoteEmptyValue(const YAML::Node& value, const YAML::Mark& key_mark);
  // Where messages about `node` point.
  YAML::Mark MarkOf(const YAML::Node& node) const;
  // Every error, ordered by position in the file (stable for equal positions).
  std::vector<ConfigError> Take();

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
  std::vector<std::pair<YAML::Node, YAML::Mark>> empty_values_;
};

// The whole text of a config file (the main config or the web config), or one error without
// position or key: "PATH: cannot read file: why" (a directory, a missing or unreadable file).
std::expected<std::string, std::vector<ConfigError>> ReadConfigText(const std::string& path);

// "api" + "timeout" -> "api.timeout"; "" + "api" -> "api".
std::string Join(std::string_view path, std::string_view key);
// "policies" + 2 -> "policies[2]" (0-based).
std::string Index(std::string_view path, size_t i);
// `"text"`, for messages.
std::string Quote(std::string_view text);
// What a node holds, for "got ..." in messages: `"five"`, `a mapping`, `a list`, `null`.
std::string Describe(const YAML::Node& node);

// Typed conversions of one node; each reports a type error under `path` and returns nullopt.
std::optional<std::string> AsString(const YAML::Node& node, const std::string& path, Errors& e);
std::optional<int64_t> AsInt(const YAML::Node& node, const std::string& path, Errors& e);
std::optional<bool> AsBool(const YAML::Node& node, const std::string& path, Errors& e);
std::optional<double> AsNumber(const YAML::Node& node, const std::string& path, Errors& e);
// A duration refuses values over kMaxConfigDuration (10 years).
std::optional<Millis> AsDuration(const YAML::Node& node, const std::string& path, Errors& e);
// A list of scalars; with `allow_scalar`, a single scalar reads as a one-element list.
std::optional<std::vector<std::string>> AsStrings(const YAML::Node& node, const std::string& path,
                                                  Errors& e, bool allow_scalar);
// The elements of a list; null reads as an empty list. Reports anything else.
std::optional<std::vector<YAML::Node>> AsList(const YAML::Node& node, const std::string& path,
                                              Errors& e);

// Reads the keys of one mapping. Every key that Take() (or a typed getter) names is known;
// Finish() reports each key of the mapping that was never named as unknown, suggesting the
// closest known key. Duplicate keys are reported when the reader is built.
class MapReader {
 public:
  // A null node reads as an empty mapping; anything else that is not a mapping is reported as
  // "expected a mapping" and reads as empty.
  MapReader(const YAML::Node& node, std::string path, Errors& errors);

  const std::string& path() const { return path_; }
  std::string PathOf(std::string_view key) const { return Join(path_, key); }
  Errors& errors() { return errors_; }
  // The position of the mapping itself (for missing keys).
  YAML::Mark mark() const { return mark_; }

  // The value of `key`, or nullopt when absent.
  std::optional<YAML::Node> Take(std::string_view key);
  // The node of the key `key` itself, for messages about a key rather than its value.
  YAML::Node KeyNode(std::string_view key) const;
  // Reports `key` as missing when absent (unless the node was not a mapping, which is reported
  // already); returns whether it is present.
  bool Require(std::string_view key);

  // Typed getters: nullopt when absent or invalid (the latter reported).
  std::optional<std::string> String(std::string_view key, bool non_empty = false);
  std::optional<int64_t> Int(std::string_view key, int64_t min, int64_t max);
  std::optional<bool> Bool(std::string_view key);
  std::optional<double> Number(std::string_view key, double min, double max);
  // Reports a value below `min`; a `min` of 1ms reads as "must be greater than 0s".
  std::optional<Millis> Duration(std::string_view key, Millis min);

  // Reports the keys never named. Call once, after the last Take().
  void Finish();

 private:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
    bool taken = false;
  };
  Entry* Find(std::string_view key);
  const Entry* Find(std::string_view key) const;

  std::string path_;
  Errors& errors_;
  YAML::Mark mark_;
  std::vector<Entry> entries_;
  std::vector<std::string> known_;
  bool not_a_mapping_ = false;
};

}  // namespace hdm::config_internal
