#include "statuspage/html.h"

#include <cmath>
#include <cstdint>

namespace hdm::statuspage {

void AppendEscaped(std::string& out, std::string_view text) {
  for (const char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += ch;
    }
  }
}

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendEscaped(out, text);
  return out;
}

std::string FormatAge(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const auto s = static_cast<int64_t>(seconds);
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m";
  if (s < 86400) {
    const int64_t m = s % 3600 / 60;
    return std::to_string(s / 3600) + "h" + (m ? " " + std::to_string(m) + "m" : "");
  }
  const int64_t h = s % 86400 / 3600;
  return std::to_string(s / 86400) + "d" + (h ? " " + std::to_string(h) + "h" : "");
}

}  // namespace hdm::statuspage
