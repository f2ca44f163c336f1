#include "metrics/exposition.h"

#include <charconv>
#include <chrono>
#include <cmath>

namespace hdm::metrics {

namespace {

constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53

template <typename T>
void AppendChars(std::string& out, T v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

}  // namespace

void AppendValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::trunc(v) && std::fabs(v) <= kMaxExactInteger) {
    // Shortest form would print 1700000000 as 1.7e+09.
    AppendChars(out, static_cast<int64_t>(v));
  } else {
    AppendChars(out, v);
  }
}

void AppendValue(std::string& out, uint64_t v) { AppendChars(out, v); }

double UnixSeconds(SysTime t) {
  const SysTime::duration since = t.time_since_epoch();
  const auto whole = std::chrono::floor<std::chrono::seconds>(since);
  return static_cast<double>(whole.count()) + std::chrono::duration<double>(since - whole).count();
}

void AppendLabelValue(std::string& out, std::string_view v) {
  size_t start = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out.append(v.data() + start, i - start);
    out += '\\';
    out += c == '\n' ? 'n' : c;
    start = i + 1;
  }
  out.append(v.data() + start, v.size() - start);
}

void FamilyWriter::Begin(std::string_view labels) {
  if (!started_) {
    started_ = true;
    out_ += "# HELP ";
    out_ += desc_.name;
    out_ += ' ';
    out_ += desc_.help;
    out_ += "\n# TYPE ";
    out_ += desc_.name;
    out_ += ' ';
    out_ += desc_.type;
    out_ += '\n';
  }
  out_ += desc_.name;
  out_ += labels;
  out_ += ' ';
}

}  // namespace hdm::metrics
