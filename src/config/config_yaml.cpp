// Errors, paths, and the typed conversions of single nodes.
#include "config/config_yaml.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace hdm::config_internal {

std::expected<std::string, std::vector<ConfigError>> ReadConfigText(const std::string& path) {
  auto fail = [&](const std::string& why) {
    return std::unexpected(
        std::vector{ConfigError{.file = path, .message = "cannot read file: " + why}});
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return fail(std::strerror(EISDIR));
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return fail(std::strerror(errno));
  return std::move(text).str();
}

std::string Quote(std::string_view text) { return "\"" + std::string(text) + "\""; }

void Errors::Add(const YAML::Mark& mark, std::string key, std::string message) {
  errors_.push_back(ConfigError{.file = file_,
                                .line = mark.line < 0 ? 0 : mark.line + 1,
                                .column = mark.column < 0 ? 0 : mark.column + 1,
                                .key = std::move(key),
                                .message = std::move(message)});
}

void Errors::Add(const YAML::Node& at, std::string key, std::string message) {
  Add(MarkOf(at), std::move(key), std::move(message));
}

void Errors::NoteEmptyValue(const YAML::Node& value, const YAML::Mark& key_mark) {
  empty_values_.emplace_back(value, key_mark);
}

YAML::Mark Errors::MarkOf(const YAML::Node& node) const {
  for (const auto& [value, key_mark] : empty_values_) {
    if (value.is(node)) return key_mark;
  }
  return node.Mark();
}

std::vector<ConfigError> Errors::Take() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  return std::move(errors_);
}

std::string Join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return std::string(path) + "." + std::string(key);
}

std::string Index(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

std::string Describe(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (!node.IsScalar()) return "null";
  const std::string& text = node.Scalar();
  if (text.size() > 40) return Quote(text.substr(0, 37) + "...");
  return Quote(text);
}

std::optional<std::string> AsString(const YAML::Node& node, const std::string& path, Errors& e) {
  if (node.IsScalar()) return node.Scalar();
  e.Add(node, path, "expected a string, got " + Describe(node));
  return std::nullopt;
}

std::optional<int64_t> AsInt(const YAML::Node& node, const std::string& path, Errors& e) {
  if (node.IsScalar()) {
    std::string_view text = node.Scalar();
    if (text.starts_with('+')) text.remove_prefix(1);
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) return value;
  }
  e.Add(node, path, "expected an integer, got " + Describe(node));
  return std::nullopt;
}

std::optional<bool> AsBool(const YAML::Node& node, const std::string& path, Errors& e) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
  }
  e.Add(node, path, "expected true or false, got " + Describe(node));
  return std::nullopt;
}

std::optional<double> AsNumber(const YAML::Node& node, const std::string& path, Errors& e) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size() && std::isfinite(value)) {
      return value;
    }
  }
  e.Add(node, path, "expected a number, got " + Describe(node));
  return std::nullopt;
}

std::optional<Millis> AsDuration(const YAML::Node& node, const std::string& path, Errors& e) {
  if (node.IsScalar()) {
    if (auto d = ParseDuration(node.Scalar())) {
      if (*d <= kMaxConfigDuration) return d;
      e.Add(node, path,
            "must be at most " + FormatDuration(kMaxConfigDuration) + " (10 years), got " +
                node.Scalar());
      return std::nullopt;
    }
  }
  e.Add(node, path, "expected a duration like 5m, got " + Describe(node));
  return std::nullopt;
}

std::optional<std::vector<std::string>> AsStrings(const YAML::Node& node, const std::string& path,
                                                  Errors& e, bool allow_scalar) {
  if (allow_scalar && node.IsScalar()) return std::vector<std::string>{node.Scalar()};
  if (node.IsNull()) return std::vector<std::string>{};
  if (!node.IsSequence()) {
    e.Add(node, path, "expected a list of strings, got " + Describe(node));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (size_t i = 0; i < node.size(); ++i) {
    const YAML::Node item = node[i];
    if (item.IsScalar()) {
      out.push_back(item.Scalar());
    } else {
      e.Add(item, Index(path, i), "expected a string, got " + Describe(item));
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::vector<YAML::Node>> AsList(const YAML::Node& node, const std::string& path,
                                              Errors& e) {
  if (node.IsNull()) return std::vector<YAML::Node>{};
  if (!node.IsSequence()) {
    e.Add(node, path, "expected a list, got " + Describe(node));
    return std::nullopt;
  }
  std::vector<YAML::Node> out;
  for (size_t i = 0; i < node.size(); ++i) out.push_back(node[i]);
  return out;
}

}  // namespace hdm::config_internal
