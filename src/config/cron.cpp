// ParseCron and CronSpec evaluation. Search is bounded: NextAfter looks at most kSearchYears
// ahead, which covers every date a valid spec can name (29 February included, whose gap can
// reach eight years around 2100); past that it returns time_point::max().
#include "config/cron.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

namespace hdm {
namespace {

namespace chr = std::chrono;
using Clock = chr::system_clock;

constexpr int kSearchYears = 10;

struct Field {
  const char* name;
  int min;
  int max;  // the largest value accepted; day-of-week accepts 7 for Sunday
  std::vector<std::string_view> names;  // names[i] stands for min + i (only months and weekdays)
};

const std::array<Field, 5>& Fields() {
  static const std::array<Field, 5> fields = {{
      {"minute", 0, 59, {}},
      {"hour", 0, 23, {}},
      {"day-of-month", 1, 31, {}},
      {"month",
       1,
       12,
       {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
      {"day-of-week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
  }};
  return fields;
}

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::vector<std::string_view> SplitWhitespace(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A number or a name of `field`; range checked against field.min..field.max.
std::expected<int, std::string> ParseValue(std::string_view text, const Field& field) {
  if (text.empty()) return std::unexpected("missing value");
  const std::string lower = Lower(text);
  for (size_t i = 0; i < field.names.size(); ++i) {
    if (lower == field.names[i]) return field.min + static_cast<int>(i);
  }
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::unexpected("invalid value \"" + std::string(text) + "\"");
  }
  for (char c : text) value = std::min(value * 10 + (c - '0'), 1'000'000);
  if (value < field.min || value > field.max) {
    return std::unexpected(std::string(text) + " is out of range " + std::to_string(field.min) +
                           "-" + std::to_string(field.max));
  }
  return value;
}

// One comma-separated element: '*', 'a', 'a-b', each optionally followed by '/step'.
std::expected<uint64_t, std::string> ParseElement(std::string_view text, const Field& field) {
  int step = 1;
  const size_t slash = text.find('/');
  std::string_view range = text.substr(0, slash);
  if (slash != std::string_view::npos) {
    const std::string_view step_text = text.substr(slash + 1);
    if (step_text.empty()) return std::unexpected("missing step after '/'");
    Field step_field{"step", 1, field.max, {}};
    auto parsed = ParseValue(step_text, step_field);
    if (!parsed) return std::unexpected("step " + parsed.error());
    step = *parsed;
  }
  int low = field.min;
  int high = field.name == std::string_view("day-of-week") ? 6 : field.max;
  if (range != "*") {
    const size_t dash = range.find('-');
    auto first = ParseValue(range.substr(0, dash), field);
    if (!first) return std::unexpected(first.error());
    low = *first;
    if (dash != std::string_view::npos) {
      auto last = ParseValue(range.substr(dash + 1), field);
      if (!last) return std::unexpected(last.error());
      high = *last;
      if (high < low) return std::unexpected("range " + std::string(range) + " is reversed");
    } else if (slash == std::string_view::npos) {
      high = low;
    } else {
      // 'a/n' means 'a-max/n', as in most crons; day-of-week's max is 6 but '7/n' is Sunday.
      high = std::max(high, low);
    }
  }
  uint64_t bits = 0;
  for (int v = low; v <= high; v += step) bits |= uint64_t{1} << v;
  return bits;
}

std::expected<uint64_t, std::string> ParseField(std::string_view text, const Field& field) {
  uint64_t bits = 0;
  for (std::string_view element : Split(text, ',')) {
    auto parsed = ParseElement(element, field);
    if (!parsed) return std::unexpected(parsed.error());
    bits |= *parsed;
  }
  return bits;
}

template <size_t N>
std::bitset<N> ToBits(uint64_t bits) {
  std::bitset<N> out;
  for (size_t i = 0; i < N; ++i) out[i] = (bits >> i) & 1;
  return out;
}

std::string_view ExpandMacro(std::string_view text) {
  if (text == "@yearly" || text == "@annually") return "0 0 1 1 *";
  if (text == "@monthly") return "0 0 1 * *";
  if (text == "@weekly") return "0 0 * * 0";
  if (text == "@daily" || text == "@midnight") return "0 0 * * *";
  if (text == "@hourly") return "0 * * * *";
  return text;
}

bool DayMatches(const CronSpec& spec, chr::sys_days day) {
  const chr::year_month_day ymd{day};
  if (!spec.months[static_cast<unsigned>(ymd.month())]) return false;
  const bool dom = spec.days_of_month[static_cast<unsigned>(ymd.day())];
  const bool dow = spec.days_of_week[chr::weekday{day}.c_encoding()];
  if (spec.dom_restricted && spec.dow_restricted) return dom || dow;
  return dom && dow;
}

}  // namespace

std::expected<CronSpec, std::string> ParseCron(std::string_view text) {
  const std::vector<std::string_view> words = SplitWhitespace(ExpandMacro(text));
  if (words.size() != 5) {
    return std::unexpected("expected 5 fields (minute hour day-of-month month day-of-week), got " +
                           std::to_string(words.size()));
  }
  uint64_t bits[5];
  for (int i = 0; i < 5; ++i) {
    const Field& field = Fields()[i];
    auto parsed = ParseField(words[i], field);
    if (!parsed) {
      return std::unexpected("field " + std::to_string(i + 1) + " (" + field.name +
                             "): " + parsed.error());
    }
    bits[i] = *parsed;
  }
  if (bits[4] & (uint64_t{1} << 7)) bits[4] = (bits[4] | 1) & 0x7f;  // 7 is Sunday
  CronSpec spec;
  spec.minutes = ToBits<60>(bits[0]);
  spec.hours = ToBits<24>(bits[1]);
  spec.days_of_month = ToBits<32>(bits[2]);
  spec.months = ToBits<13>(bits[3]);
  spec.days_of_week = ToBits<7>(bits[4]);
  // Vixie cron: a day field is unrestricted when it starts with '*' (so "*/2" counts as '*').
  spec.dom_restricted = !words[2].starts_with('*');
  spec.dow_restricted = !words[4].starts_with('*');
  return spec;
}

Clock::time_point CronSpec::NextAfter(Clock::time_point t) const {
  constexpr chr::days kHorizon{366 * kSearchYears};
  if (t >= Clock::time_point::max() - (kHorizon + chr::days{2})) return Clock::time_point::max();
  const auto start = chr::floor<chr::minutes>(t) + chr::minutes{1};
  chr::sys_days day = chr::floor<chr::days>(start);
  int minute_of_day = static_cast<int>((start - day).count());
  const chr::sys_days limit = day + kHorizon;
  while (day <= limit) {
    const chr::year_month_day ymd{day};
    if (!months[static_cast<unsigned>(ymd.month())]) {
      day = chr::sys_days{(ymd.year() / ymd.month() + chr::months{1}) / 1};
      minute_of_day = 0;
      continue;
    }
    if (DayMatches(*this, day)) {
      for (int h = minute_of_day / 60, m = minute_of_day % 60; h < 24; ++h, m = 0) {
        if (!hours[h]) continue;
        for (; m < 60; ++m) {
          if (minutes[m]) return day + chr::hours{h} + chr::minutes{m};
        }
      }
    }
    day += chr::days{1};
    minute_of_day = 0;
  }
  return Clock::time_point::max();
}

bool CronSpec::Matches(Clock::time_point t) const {
  const auto minute = chr::floor<chr::minutes>(t);
  const chr::sys_days day = chr::floor<chr::days>(minute);
  const int minute_of_day = static_cast<int>((minute - day).count());
  return DayMatches(*this, day) && hours[minute_of_day / 60] && minutes[minute_of_day % 60];
}

}  // namespace hdm
