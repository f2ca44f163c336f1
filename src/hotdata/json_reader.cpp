#include "hotdata/json_reader.h"

#include <limits>

#include "hotdata/text_util.h"

namespace hdm::hotdata::detail {

namespace {

// True when arrays/objects in `body` nest deeper than `limit` (strings are skipped).
bool NestsDeeperThan(std::string_view body, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

std::string Got(const json& j) {
  if (j.is_number_float()) return "got number " + j.dump();
  if (j.is_number()) return "got integer " + j.dump();
  return std::string("got ") + j.type_name();
}

const json& Require(const json& obj, std::string_view key, std::string_view path) {
  const json* v = Find(obj, key);
  if (v == nullptr) Fail(FieldPath(path, key), "missing");
  return *v;
}

}  // namespace

std::string FieldPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out(parent);
  out += '.';
  out += key;
  return out;
}

std::string IndexPath(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

void Fail(const std::string& path, std::string_view what) {
  throw DecodeFailure{(path.empty() ? std::string("body") : path) + ": " + std::string(what)};
}

const json* Find(const json& obj, std::string_view key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

void ExpectObject(const json& j, const std::string& path) {
  if (!j.is_object()) Fail(path, "expected object, " + Got(j));
}

const json& RequireArray(const json& obj, std::string_view key, std::string_view path) {
  const json& v = Require(obj, key, path);
  if (!v.is_array()) Fail(FieldPath(path, key), "expected array, " + Got(v));
  return v;
}

std::string RequireString(const json& obj, std::string_view key, const std::string& path) {
  const json& v = Require(obj, key, path);
  if (!v.is_string()) Fail(FieldPath(path, key), "expected string, " + Got(v));
  return v.get<std::string>();
}

int64_t RequireInt(const json& obj, std::string_view key, const std::string& path) {
  const json& v = Require(obj, key, path);
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      Fail(FieldPath(path, key), "integer out of range");
    }
    return static_cast<int64_t>(v.get<uint64_t>());
  }
  if (!v.is_number_integer()) Fail(FieldPath(path, key), "expected integer, " + Got(v));
  return v.get<int64_t>();
}

int64_t RequireNonNegativeInt(const json& obj, std::string_view key, const std::string& path) {
  int64_t v = RequireInt(obj, key, path);
  if (v < 0) Fail(FieldPath(path, key), "expected non-negative integer, got " + std::to_string(v));
  return v;
}

double RequireNumber(const json& obj, std::string_view key, const std::string& path) {
  const json& v = Require(obj, key, path);
  if (!v.is_number()) Fail(FieldPath(path, key), "expected number, " + Got(v));
  return v.get<double>();
}

bool RequireBool(const json& obj, std::string_view key, const std::string& path) {
  const json& v = Require(obj, key, path);
  if (!v.is_boolean()) Fail(FieldPath(path, key), "expected boolean, " + Got(v));
  return v.get<bool>();
}

std::optional<std::string> OptionalString(const json& obj, std::string_view key,
                                          const std::string& path) {
  const json* v = Find(obj, key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) Fail(FieldPath(path, key), "expected string or null, " + Got(*v));
  return v->get<std::string>();
}

std::expected<json, std::string> ParseBody(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return std::unexpected(std::string("body: empty"));
  }
  if (NestsDeeperThan(body, kMaxJsonDepth)) {
    return std::unexpected("body: JSON nested deeper than " + std::to_string(kMaxJsonDepth));
  }
  try {
    return json::parse(body);
  } catch (const json::parse_error& e) {
    std::string_view what = e.what();
    if (auto pos = what.find("] "); pos != std::string_view::npos) what.remove_prefix(pos + 2);
    return std::unexpected("body: not valid JSON: " + Excerpt(what, 200));
  }
}

}  // namespace hdm::hotdata::detail
