// HTML text helpers of the status page. Thread-safe (no state).
#pragma once

#include <string>
#include <string_view>

namespace hdm::statuspage {

// Appends `text` to `out` with &, <, >, " and ' replaced by character references: safe in element
// content and in a quoted attribute value.
void AppendEscaped(std::string& out, std::string_view text);
std::string Escape(std::string_view text);

// A duration in seconds for people: "45s", "12m", "3h 5m", "2d 4h".
std::string FormatAge(double seconds);

}  // namespace hdm::statuspage
