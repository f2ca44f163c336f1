#include "ops/config_file.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

namespace hdm::ops {
namespace {

using nlohmann::json;

json ScalarToJson(const YAML::Node& node) {
  const std::string& v = node.Scalar();
  if (node.Tag() != "?") return v;  // quoted (tag "!") or explicitly tagged: a string
  if (v == "true" || v == "True" || v == "TRUE") return true;
  if (v == "false" || v == "False" || v == "FALSE") return false;
  if (v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL") return nullptr;
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  try {
    if (std::regex_match(v, kInt)) return std::stoll(v);
    if (std::regex_match(v, kFloat)) return std::stod(v);
  } catch (const std::exception&) {
    // out of range: keep the text
  }
  return v;
}

json NodeToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : node) obj[kv.first.as<std::string>()] = NodeToJson(kv.second);
      return obj;
    }
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& item : node) arr.push_back(NodeToJson(item));
      return arr;
    }
    case YAML::NodeType::Scalar:
      return ScalarToJson(node);
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return nullptr;
}

}  // namespace

std::expected<json, std::string> YamlToJson(const std::string& text, const std::string& name) {
  try {
    return NodeToJson(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    return std::unexpected(name + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

std::expected<json, std::string> LoadConnectionConfig(const std::string& path) {
  const bool is_json = path.ends_with(".json");
  const bool is_yaml = path.ends_with(".yaml") || path.ends_with(".yml");
  if (!is_json && !is_yaml) {
    return std::unexpected(path + ": expected a .json, .yaml or .yml file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(path + ": cannot read: " + std::strerror(errno));
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::expected<json, std::string> doc;
  if (is_json) {
    try {
      doc = json::parse(buffer.str());
    } catch (const json::parse_error& e) {
      return std::unexpected(path + ": not valid JSON: " + e.what());
    }
  } else {
    doc = YamlToJson(buffer.str(), path);
    if (!doc) return doc;
  }
  if (!doc->is_object()) return std::unexpected(path + ": expected an object of config keys");
  return doc;
}

}  // namespace hdm::ops
