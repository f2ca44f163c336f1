// Internal to the decoders: typed access to JSON fields that names the failing field path.
//
// The Require* helpers throw DecodeFailure; only DecodeBody (which catches it and every other
// exception) may be called from outside decode*.cpp, so no exception leaves the decoders.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "hotdata/decode.h"

namespace hdm::hotdata::detail {

using nlohmann::json;

struct DecodeFailure {
  std::string message;  // "<path>: <what is wrong>"
};

// Deeper bodies are rejected before parsing; the API's models nest about five levels.
inline constexpr int kMaxJsonDepth = 64;

std::string FieldPath(std::string_view parent, std::string_view key);  // "a.b" or "b"
std::string IndexPath(const std::string& parent, size_t index);        // "a[3]"

[[noreturn]] void Fail(const std::string& path, std::string_view what);

void ExpectObject(const json& j, const std::string& path);
// `path` is a view, not a const std::string&: the result refers into `obj` only, and a literal
// path must not look like a temporary the reference could dangle on.
const json& RequireArray(const json& obj, std::string_view key, std::string_view path);
std::string RequireString(const json& obj, std::string_view key, const std::string& path);
int64_t RequireInt(const json& obj, std::string_view key, const std::string& path);
int64_t RequireNonNegativeInt(const json& obj, std::string_view key, const std::string& path);
double RequireNumber(const json& obj, std::string_view key, const std::string& path);
bool RequireBool(const json& obj, std::string_view key, const std::string& path);
// Absent or null: nullopt; a string: its value; anything else: DecodeFailure.
std::optional<std::string> OptionalString(const json& obj, std::string_view key,
                                          const std::string& path);
// The member `key` of `obj`, or nullptr when absent.
const json* Find(const json& obj, std::string_view key);

// Parses `body` and applies `decode` to the root value; a parse error, a DecodeFailure or any
// other exception becomes the error message.
template <typename T>
Decoded<T> DecodeBody(std::string_view body, const std::function<T(const json&)>& decode);

// Non-template core of DecodeBody: the parsed root, or the error message.
std::expected<json, std::string> ParseBody(std::string_view body);

template <typename T>
Decoded<T> DecodeBody(std::string_view body, const std::function<T(const json&)>& decode) {
  try {
    auto root = ParseBody(body);
    if (!root) return std::unexpected(std::move(root.error()));
    return decode(*root);
  } catch (const DecodeFailure& f) {
    return std::unexpected(f.message);
  } catch (const std::exception& e) {
    return std::unexpected(std::string("body: cannot decode: ") + e.what());
  } catch (...) {
    return std::unexpected(std::string("body: cannot decode"));
  }
}

}  // namespace hdm::hotdata::detail
