// LoadConfig / ParseConfig: the top level of the file, and error formatting.
#include "config/config.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <optional>
#include <sstream>

#include "config/config_sections.h"
#include "config/config_yaml.h"
#include "config/server_files.h"

namespace hdm {

using config_internal::Errors;
using config_internal::MapReader;

std::string ConfigError::ToString() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  return out + message;
}

namespace {

Config ParseRoot(const YAML::Node& root, const std::string& file_name, Errors& errors) {
  Config config;
  config.source_path = file_name;
  MapReader r(root, "", errors);
  if (auto v = r.Take("api")) {
    config.api = config_internal::ParseApi(*v, errors);
  } else if (root.IsMap()) {
    errors.Add(r.mark(), "api.base_url", "required key is missing");
  }
  if (auto v = r.Take("scheduler")) config.scheduler = config_internal::ParseScheduler(*v, errors);
  if (auto v = r.Take("tables")) config.tables = config_internal::ParseTables(*v, errors);
  if (auto v = r.Take("server")) config.server = config_internal::ParseServer(*v, errors);
  if (auto v = r.String("state_file", true)) config.state_file = *v;
  if (auto v = r.Take("safety")) config.safety = config_internal::ParseSafety(*v, errors);
  if (auto v = r.Take("policies")) {
    config.policies = config_internal::ParsePolicies(*v, !config.tables.empty(), errors);
  }
  r.Finish();
  return config;
}

// The documents of a YAML stream: how many, and where the second one starts. Counted from the
// parser's events because yaml-cpp 0.7's LoadAll() loops forever on some malformed input (e.g.
// "- api\n,-uler\n"), appending empty documents that consume nothing until memory runs out
// (fixed upstream after 0.8, yaml-cpp PR 1319). An empty document that starts where the previous
// empty one did made no progress: counting stops there.
class DocumentCounter : public YAML::EventHandler {
 public:
  size_t count() const { return count_; }
  const YAML::Mark& second() const { return second_; }

  // Parses every document of `text`; throws YAML::Exception on a syntax error, as LoadAll does.
  void Count(const std::string& text) {
    std::istringstream in(text);
    YAML::Parser parser(in);
    std::optional<int> last_empty_pos;
    while (parser.HandleNextDocument(*this)) {
      if (empty_) {
        if (last_empty_pos == first_.pos) break;
        last_empty_pos = first_.pos;
      }
      if (++count_ == 2) second_ = first_;
    }
  }

  void OnDocumentStart(const YAML::Mark&) override {
    events_ = 0;
    empty_ = false;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override {
    if (First(mark)) empty_ = true;
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { First(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    First(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    First(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    First(mark);
  }
  void OnMapEnd() override {}

 private:
  // Records the mark of a document's root (its first event); true for the root.
  bool First(const YAML::Mark& mark) {
    if (events_++ > 0) return false;
    first_ = mark;
    return true;
  }

  size_t count_ = 0;
  int events_ = 0;
  bool empty_ = false;
  YAML::Mark first_ = YAML::Mark::null_mark();
  YAML::Mark second_ = YAML::Mark::null_mark();
};

}  // namespace

ConfigResult ParseConfig(const std::string& yaml_text, const std::string& file_name) {
  Errors errors(file_name);
  try {
    DocumentCounter documents;
    documents.Count(yaml_text);
    const YAML::Node root = documents.count() == 0 ? YAML::Node() : YAML::Load(yaml_text);
    if (root.IsNull()) {
      errors.Add(YAML::Mark::null_mark(), "",
                 "the file is empty; a minimal config needs api.base_url");
      return std::unexpected(errors.Take());
    }
    if (documents.count() > 1) {
      errors.Add(documents.second(), "",
                 "expected one YAML document, found " + std::to_string(documents.count()));
    }
    Config config = ParseRoot(root, file_name, errors);
    if (errors.empty()) return config;
  } catch (const YAML::Exception& e) {
    errors.Add(e.mark, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    errors.Add(YAML::Mark::null_mark(), "", std::string("cannot parse: ") + e.what());
  }
  return std::unexpected(errors.Take());
}

ConfigResult LoadConfig(const std::string& path) {
  // No position and no key: ToString() gives "path: cannot read file: why".
  auto text = config_internal::ReadConfigText(path);
  if (!text) return std::unexpected(std::move(text.error()));
  ConfigResult config = ParseConfig(*text, path);
  if (!config) return config;
  // The files the server section names, once the YAML is valid (see server_files.h).
  if (auto problems = CheckServerFiles(config->server, path); !problems.empty()) {
    return std::unexpected(std::move(problems));
  }
  return config;
}

}  // namespace hdm
