// ParseDuration / FormatDuration: the duration syntax of the config file.
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "config/config.h"

namespace hdm {
namespace {

struct Unit {
  std::string_view suffix;
  int64_t millis;
};

// Largest first: a duration names each unit at most once, in this order ("1h30m", not "30m1h").
constexpr Unit kUnits[] = {
    {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1},
};
constexpr int kUnitCount = sizeof(kUnits) / sizeof(kUnits[0]);

// The unit at the start of `text`, or -1. "ms" must win over "m".
int MatchUnit(std::string_view text, size_t* length) {
  int best = -1;
  for (int i = 0; i < kUnitCount; ++i) {
    if (text.starts_with(kUnits[i].suffix) &&
        (best < 0 || kUnits[i].suffix.size() > kUnits[best].suffix.size())) {
      best = i;
    }
  }
  if (best >= 0) *length = kUnits[best].suffix.size();
  return best;
}

}  // namespace

std::optional<Millis> ParseDuration(std::string_view text) {
  if (text == "0") return Millis{0};
  if (text.empty()) return std::nullopt;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t total = 0;
  int last_unit = -1;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] < '0' || text[pos] > '9') return std::nullopt;
    int64_t number = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      const int digit = text[pos] - '0';
      if (number > (kMax - digit) / 10) return std::nullopt;
      number = number * 10 + digit;
      ++pos;
    }
    size_t length = 0;
    const int unit = MatchUnit(text.substr(pos), &length);
    if (unit < 0 || unit <= last_unit) return std::nullopt;
    last_unit = unit;
    pos += length;
    if (number > kMax / kUnits[unit].millis) return std::nullopt;
    const int64_t part = number * kUnits[unit].millis;
    if (total > kMax - part) return std::nullopt;
    total += part;
  }
  return Millis{total};
}

std::string FormatDuration(Millis d) {
  if (d.count() == 0) return "0s";
  std::string out;
  // Work on the magnitude as unsigned so that the most negative value has one too.
  uint64_t rest = static_cast<uint64_t>(d.count());
  if (d.count() < 0) {
    out = "-";
    rest = 0 - rest;
  }
  for (const Unit& unit : kUnits) {
    const uint64_t n = rest / static_cast<uint64_t>(unit.millis);
    if (n == 0) continue;
    out += std::to_string(n);
    out += unit.suffix;
    rest -= n * static_cast<uint64_t>(unit.millis);
  }
  return out;
}

}  // namespace hdm
