// Text helpers for error messages built from what a server sent: the results are safe to log and
// to embed in JSON (valid UTF-8, no control characters) and bounded in length.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hdm::hotdata {

// Printable ASCII only: other bytes become '?', runs of whitespace one space; trimmed; longer
// than `max_chars` is cut and ends with "...". For bodies of unknown encoding.
std::string Excerpt(std::string_view text, size_t max_chars = 200);

// For text that is already valid UTF-8 (a decoded JSON string): control characters become
// spaces and the result is cut at a character boundary to at most `max_bytes` (plus "...").
std::string CleanUtf8(std::string_view text, size_t max_bytes = 500);

// `text` with every occurrence of `secret` replaced by "<redacted>" (nothing when it is empty).
std::string Redact(std::string text, std::string_view secret);

}  // namespace hdm::hotdata
